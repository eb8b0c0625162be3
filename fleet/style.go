package fleet

// styleCSS is the console's only stylesheet (served from /static/style.css).
const styleCSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 "Noto Sans CJK SC","Microsoft YaHei","PingFang SC",system-ui,sans-serif;color:#1d2733;background:#f4f6f8}
header{display:flex;gap:14px;align-items:center;background:#0f3d63;color:#fff;padding:8px 16px;flex-wrap:wrap}
header a{color:#d6e6f5;text-decoration:none;padding:4px 8px;border-radius:4px}
header a.on,header a:hover{background:#1d5a8c;color:#fff}
.brand{margin-right:10px}.who{margin-left:auto;opacity:.85}
main{padding:16px 20px;max-width:1280px}
h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:18px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:8px}
th,td{border-bottom:1px solid #e1e6eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef2f5;font-weight:600}
table.kv{width:auto}table.kv th{width:160px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;color:#fff}
.green{background:#2e8540}.red{background:#c0392b}.grey{background:#7b8794}
.checks{list-style:none;padding:0;margin:0}.checks li{padding:3px 8px;margin:2px 0;border-radius:3px}
.checks .ok{background:#e3f4e6;color:#1e6b2f}.checks .bad{background:#fbe4e1;color:#9b2c20}
.cols{display:flex;gap:24px;flex-wrap:wrap}.cols section{flex:1;min-width:320px}
.flash{background:#e3f4e6;padding:6px 10px;border-left:4px solid #2e8540}
.error{background:#fbe4e1;padding:6px 10px;border-left:4px solid #c0392b}
form.inline{display:inline}.filters{margin-bottom:10px;display:flex;gap:8px;align-items:center}
.settings label{display:inline-block;margin:4px 10px 4px 0}
button{font:inherit;padding:3px 10px;border:1px solid #8aa1b5;background:#fff;border-radius:3px;cursor:pointer}
button.danger{border-color:#c0392b;color:#c0392b}
.small{font-size:12px;color:#5b6875}
.login{max-width:340px;margin:60px auto;background:#fff;padding:24px;border-radius:6px;box-shadow:0 1px 4px #0002}
.login label{display:block;margin:10px 0}.login input{width:100%;padding:6px}
.chart{background:#fff;display:block;margin:8px 0;border:1px solid #e1e6eb}
.chart .ct{font-size:13px;font-weight:600;fill:#1d2733}.chart .ax{font-size:10px;fill:#5b6875}
.chart .grid{stroke:#e1e6eb}.chart .bar{fill:#2f7ab8}
.chart .lfail{fill:none;stroke:#c0392b;stroke-width:2}.chart .lunk{fill:none;stroke:#e69b00;stroke-width:2}
.chart .kfail{fill:#c0392b}.chart .kunk{fill:#e69b00}
pre{background:#fff;border:1px solid #e1e6eb;padding:8px;white-space:pre-wrap}
@media print{header,.noprint{display:none}body{background:#fff}}
`
