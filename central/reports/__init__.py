"""Candidate reports (HTML and PDF) and per exam exports (CSV of results, JSON of violations).

`data` gathers one candidate's report from the result service, `timeline` lays out the chart
once and draws it as SVG (the PDF draws the same layout with fpdf2), `pdf` writes the PDF and
`exports` the exam-wide files."""
