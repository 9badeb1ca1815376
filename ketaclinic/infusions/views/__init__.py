"""Pages of the session chart: the chair board, the chart and its PDF (`board`), the chart page's
steps and context (`page`), and the step forms' posts (`steps`)."""
