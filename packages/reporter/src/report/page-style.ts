// The parts of the stylesheet the report's page and the sweep's page share: the page itself,
// the summary cards, the chart axes and the print rules. Each page adds its own rules around them.

/** The page: colours, type, width, headings. */
export const PAGE_CSS = `:root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff}
main{max-width:1180px;margin:0 auto;padding:24px 20px 40px}
h1{font-size:1.6rem;margin:0 0 .25rem;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:2rem 0 .7rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}`;

/** The summary cards (.card, with .warn and .alarm). */
export const CARD_CSS = `.card{border:1px solid var(--line);border-radius:8px;padding:8px 12px;background:var(--soft)}
.card b{display:block;font-size:1.3rem;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.card span{color:var(--muted);font-size:.85rem}
.card.warn{border-color:#d4a72c;background:#fff8c5}
.card.alarm{border-color:#cf222e;background:#ffebe9}`;

/** The footer, and the charts' axes, baselines, legends and labels. */
export const AXIS_CSS = `footer{margin-top:2.5rem;color:var(--muted);font-size:.82rem;overflow-wrap:anywhere}
.axis line{stroke:#8c959f;stroke-width:1}
.axis line.grid{stroke:#e6eaef}
.axis text{fill:#59636e}
.axis-title{fill:#1f2328;font-weight:600}
.baseline{stroke:#8c959f;fill:none}
.legend text,.label{fill:#1f2328}
.label{font-size:12px}`;

/** Printing: full width, charts unclipped, nothing split across pages, colours kept. */
export const PRINT_CSS = `@media print{
body{font-size:10.5pt}
main{max-width:none;padding:0}
.scroll{overflow:visible}
svg.chart{min-width:0}
section,figure,table,.cards{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}`;
