#!/usr/bin/env python3
"""gen-screens.py - render the browser-drawn OCR corpus (testdata/screens/).

POS software written for the web or Electron draws its totals with a real
browser engine: subpixel anti-aliasing, CSS fonts, device scale factors.
This script fills page.html with cells the way such screens show an amount
(plain labels, LED-style 7-segment digits with faint unlit "ghost" segments
drawn in DSEG7, green pill buttons, condensed faces, small decimals, a
summary table whose rows sit tight), renders each page with Debian's
headless chromium at scale factor 1.0, 1.25, 1.5 and 2.0, and cuts each cell
out with tight or loose margins. Windows stretching a non-DPI-aware POS is
imitated by scaling 1.0 crops bilinearly to 125 % and 150 %.

Usage: capture/ocr/testdata/screens/gen-screens.py [OUTDIR] [SEED]
  default OUTDIR is this folder (rewrites *.png and manifest.tsv), SEED 12;
  another seed renders a held-out set that nothing was tuned on.

Needs: chromium, imagemagick (convert), fonts-noto-cjk, fonts-wqy-microhei,
fonts-dejavu-core, fonts-liberation, fonts-dseg. Deterministic for one seed
and one set of package versions.

manifest.tsv: file, amount in fen or "refuse", what was drawn (the same
format as testdata/corpus/manifest.tsv).
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else HERE
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 12
rnd = random.Random(SEED)

PAGE_W, CELL_W, CELL_H, GAP = 960, 450, 92, 12

TEXT_FONTS = [
    "'Noto Sans CJK SC'", "'WenQuanYi Micro Hei'", "'Noto Serif CJK SC'",
    "'DejaVu Sans'", "'DejaVu Sans Mono'", "'Liberation Sans'", "'Liberation Serif'",
    "'Microsoft YaHei', 'Noto Sans CJK SC'",  # what a Windows-first page asks for
]
CONDENSED = [("'DejaVu Sans'", 'font-stretch: condensed'), ("'Liberation Sans Narrow'", ''),
             ("'DejaVu Sans'", 'font-stretch: condensed; font-weight: 700')]
LED_FONTS = ["'DSEG7 Classic'", "'DSEG7 Modern'"]
LED_WEIGHTS = ['400', '700']
# background, text
THEMES = [('#ffffff', '#222222'), ('#f4f6f8', '#0d47a1'), ('#1e1e1e', '#f0f0f0'),
          ('#263238', '#ffd54f'), ('#fff8e1', '#c62828'), ('#1565c0', '#ffffff'),
          ('#eef7ee', '#1b5e20'), ('#ffffff', '#e53935')]
# lit colour, background: the LED look
LED_THEMES = [('#ff3b30', '#120303'), ('#39ff14', '#041204'), ('#00e5ff', '#02131a'),
              ('#ffb000', '#140d00'), ('#ff5252', '#000000'), ('#7CFC00', '#0b0f0b')]
TOTAL_LABELS = ['合计', '应收', '应付金额', '总计', '应收金额', '合计金额', 'TOTAL', '']
# Labels that say the amount is not the one to charge (the display sniffer's
# rules, capture/display/labels.go, plus discount and quantity).
NOT_TOTAL = ['找零', '实收', '已付', '单价', '优惠', '数量', '优惠金额', '找零金额', '实收金额',
             'CHANGE', '折扣']
BUTTON_GREENS = ['#07c160', '#1aad19', '#2e7d32', '#19be6b']
BUTTON_WORDS = ['结账', '支付', '去结算', '立即支付']


def amount():
    """A random amount in fen, spread over magnitudes."""
    digits = rnd.choice([1, 2, 2, 3, 3, 3, 4, 4, 5])
    yuan = rnd.randrange(10 ** (digits - 1) if digits > 1 else 0, 10 ** digits)
    fen = yuan * 100 + rnd.randrange(100)
    return fen if fen > 0 else 1234


def fmt(fen, comma=False):
    y, f = divmod(fen, 100)
    s = f'{y:,}' if comma else str(y)
    return f'{s}.{f:02d}'


def esc(s):
    return s.replace('&', '&amp;').replace('<', '&lt;')


class Cell:
    def __init__(self, kind, html, want, drawn, crop, style=''):
        self.kind, self.html, self.want, self.drawn, self.crop, self.style = kind, html, want, drawn, crop, style


def sign():
    return rnd.choice(['¥', '¥', '￥', ''])


def plain_cell(label_pool, want):
    fen = amount()
    font = rnd.choice(TEXT_FONTS)
    bg, fg = rnd.choice(THEMES)
    size = rnd.choice([14, 16, 18, 20, 24, 28, 32, 40])
    label = rnd.choice(label_pool)
    sep = rnd.choice(['', '：', ':'])
    s = sign()
    text = fmt(fen, comma=fen >= 100000 and rnd.random() < 0.5)
    bold = rnd.random() < 0.3
    lab = f'<span class="label">{esc(label)}{sep}</span>' if label else ''
    html = (f'<span class="line" id="L" style="font-family:{font}; font-size:{size}px; color:{fg};'
            f'{"font-weight:700;" if bold else ""}">{lab}<span>{s}{text}</span></span>')
    drawn = f'{font.split(",")[0]} {size}px{" bold" if bold else ""} {fg} on {bg}: {label}{sep}{s}{text}'
    return Cell('plain', html, fen if want else None, drawn, rnd.choice(['tight', 'loose']), f'background:{bg}')


def yuan_cell():
    fen = amount()
    font = rnd.choice(TEXT_FONTS[:3])
    bg, fg = rnd.choice(THEMES)
    size = rnd.choice([16, 20, 24, 28])
    label = rnd.choice(['合计', '应收', ''])
    gap = rnd.choice([' ', ''])
    lab = f'<span class="label">{label}</span>' if label else ''
    html = (f'<span class="line" id="L" style="font-family:{font}; font-size:{size}px; color:{fg}">'
            f'{lab}<span>{fmt(fen)}{gap}元</span></span>')
    return Cell('yuan', html, fen, f'{font} {size}px {fg} on {bg}: {label} {fmt(fen)}{gap}元',
                rnd.choice(['tight', 'loose']), f'background:{bg}')


def led_cell(label_pool, want):
    fen = amount()
    font = rnd.choice(LED_FONTS)
    weight = rnd.choice(LED_WEIGHTS)
    lit, bg = rnd.choice(LED_THEMES)
    size = rnd.choice([22, 26, 30, 36, 44])
    text = fmt(fen)
    width = max(len(text.split('.')[0]), rnd.choice([4, 5, 6]))
    ghost = '8' * width + '.88'
    pad = '!' * (width - len(text.split('.')[0]))  # '!' is DSEG's blank of a digit's width
    alpha = rnd.choice([0.10, 0.14, 0.18, 0.22])
    label = rnd.choice(label_pool)
    lab = (f'<span class="label" style="font-size:{max(14, size // 2)}px; color:{lit}">{label}</span>'
           if label else '')
    html = (f'<span class="line" id="L" style="align-items:center">{lab}'
            f'<span class="led" style="font-family:{font}; font-weight:{weight}; font-size:{size}px; color:{lit}">'
            f'<span class="ghost" style="opacity:{alpha}">{ghost}</span><span>{pad}{text}</span></span></span>')
    drawn = f'LED {font} w{weight} {size}px {lit} on {bg}, ghost {alpha}: {label} {text}'
    return Cell('led', html, fen if want else None, drawn, rnd.choice(['tight', 'loose']), f'background:{bg}')


def button_cell():
    fen = amount()
    green = rnd.choice(BUTTON_GREENS)
    font = rnd.choice(TEXT_FONTS[:2] + ["'DejaVu Sans'", "'Liberation Sans'"])
    size = rnd.choice([16, 18, 20, 24])
    word = rnd.choice(BUTTON_WORDS + [''])
    w = f'<span class="label">{word}</span>' if word else ''
    html = (f'<span class="pill" id="L" style="background:{green}; color:#fff; font-family:{font}; font-size:{size}px">'
            f'{w}<span>¥{fmt(fen)}</span></span>')
    return Cell('button', html, fen, f'pill {green} {font} {size}px white regular: {word} ¥{fmt(fen)}',
                rnd.choice(['tight', 'loose']), 'background:#ffffff')


def condensed_cell():
    fen = amount()
    font, extra = rnd.choice(CONDENSED)
    bg, fg = rnd.choice(THEMES)
    size = rnd.choice([16, 20, 24, 28, 32])
    label = rnd.choice(TOTAL_LABELS)
    lab = f'<span class="label">{label}</span>' if label else ''
    html = (f'<span class="line" id="L" style="font-family:{font}; {extra}; font-size:{size}px; color:{fg}">'
            f'{lab}<span>¥{fmt(fen)}</span></span>')
    return Cell('condensed', html, fen, f'condensed {font} {extra} {size}px {fg} on {bg}: {label} ¥{fmt(fen)}',
                rnd.choice(['tight', 'loose']), f'background:{bg}')


def smalldec_cell():
    fen = amount()
    font = rnd.choice(TEXT_FONTS)
    bg, fg = rnd.choice(THEMES)
    size = rnd.choice([24, 28, 32, 40, 48])
    y, f = divmod(fen, 100)
    label = rnd.choice(['应收', '合计', ''])
    lab = f'<span class="label" style="font-size:{size * 2 // 3}px">{label}</span>' if label else ''
    html = (f'<span class="line" id="L" style="font-family:{font}; font-size:{size}px; color:{fg}; font-weight:700">'
            f'{lab}<span>¥{y}<span style="font-size:60%">.{f:02d}</span></span></span>')
    return Cell('smalldec', html, fen, f'small decimals {font} {size}px {fg} on {bg}: {label} ¥{y} + .{f:02d} at 60 %',
                rnd.choice(['tight', 'loose']), f'background:{bg}')


def table_cell():
    """A summary table; the crop is the middle row plus a few pixels of its
    neighbours (a rectangle set a little too generously)."""
    above, fen, below = amount(), amount(), amount()
    font = rnd.choice(TEXT_FONTS[:3])
    bg, fg = rnd.choice(THEMES[:5])
    size = rnd.choice([15, 16, 18])
    rows = [('优惠金额', '-' + fmt(above)), ('应付金额', '¥' + fmt(fen)), ('实收', fmt(below))]
    tr = ''.join(f'<tr id="{"R" if i == 1 else f"r{i}"}"><td>{a}</td><td class="v">{b}</td></tr>'
                 for i, (a, b) in enumerate(rows))
    html = (f'<table class="sum" style="font-family:{font}; font-size:{size}px; color:{fg}">{tr}</table>')
    bleed = rnd.choice([2, 3, 4])
    return Cell('table', html, fen, f'table {font} {size}px {fg} on {bg}: row 应付金额 ¥{fmt(fen)}, {bleed}px of 优惠金额/实收 rows',
                f'row:{bleed}', f'background:{bg}')


def two_amounts_cell():
    a, b = amount(), amount() + 1
    bg, fg = rnd.choice(THEMES)
    html = (f'<span class="line" id="L" style="font-size:20px; color:{fg}">'
            f'<span>¥{fmt(a)}</span><span class="label">共</span><span>¥{fmt(b)}</span></span>')
    return Cell('two', html, None, f'two amounts {fg} on {bg}: ¥{fmt(a)} 共 ¥{fmt(b)}', 'tight', f'background:{bg}')


def page_cells(n_each):
    """One page's cells: n_each maps a kind to how many."""
    cells = []
    for kind, n in n_each.items():
        for _ in range(n):
            if kind == 'plain':
                cells.append(plain_cell(TOTAL_LABELS, True))
            elif kind == 'neg':
                cells.append(plain_cell(NOT_TOTAL, False))
            elif kind == 'led':
                cells.append(led_cell(['应收', '合计', '', '', 'TOTAL'], True))
            elif kind == 'ledneg':
                cells.append(led_cell(['找零', '实收', '单价'], False))
            elif kind == 'yuan':
                cells.append(yuan_cell())
            elif kind == 'button':
                cells.append(button_cell())
            elif kind == 'condensed':
                cells.append(condensed_cell())
            elif kind == 'smalldec':
                cells.append(smalldec_cell())
            elif kind == 'table':
                cells.append(table_cell())
            elif kind == 'two':
                cells.append(two_amounts_cell())
    rnd.shuffle(cells)
    return cells


def render(cells, scale, workdir, name):
    rows = (len(cells) + 1) // 2
    height = rows * (CELL_H + GAP) + GAP
    parts = []
    for i, c in enumerate(cells):
        x = GAP + (i % 2) * (CELL_W + GAP)
        y = GAP + (i // 2) * (CELL_H + GAP)
        html = c.html.replace('id="L"', f'id="c{i}L"').replace('id="R"', f'id="c{i}R"')
        html = re.sub(r'id="r(\d)"', lambda m: f'id="c{i}r{m.group(1)}"', html)
        parts.append(f'<div class="cell" id="c{i}" style="left:{x}px; top:{y}px; width:{CELL_W}px; '
                     f'height:{CELL_H}px; {c.style}">{html}</div>')
    with open(os.path.join(HERE, 'page.html'), encoding='utf-8') as f:
        page = f.read()
    page = page.replace('{{W}}', str(PAGE_W)).replace('{{H}}', str(height)).replace('{{CELLS}}', '\n'.join(parts))
    path = os.path.join(workdir, name + '.html')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(page)
    shot = os.path.join(workdir, name + '.png')
    prof = tempfile.mkdtemp(dir=workdir)
    base = ['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            '--hide-scrollbars', f'--user-data-dir={prof}', f'--window-size={PAGE_W},{height}',
            f'--force-device-scale-factor={scale}']
    env = dict(os.environ, FONTCONFIG_FILE=os.path.join(HERE, 'fonts.conf'))
    subprocess.run(base + [f'--screenshot={shot}', 'file://' + path], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dom = subprocess.run(base + ['--dump-dom', 'file://' + path], check=True, env=env, capture_output=True,
                         text=True).stdout
    m = re.search(r'data-rects="([^"]*)"', dom)
    rects = json.loads(m.group(1).replace('&quot;', '"'))
    return shot, rects


def crop_box(c, i, rects, scale):
    cell = rects[f'c{i}']
    if c.crop.startswith('row:'):
        bleed = int(c.crop[4:])
        r = rects[f'c{i}R']
        box = [cell[0] + 4, r[1] - bleed, cell[2] - 4, r[3] + bleed]
    elif c.crop == 'tight':
        r = rects[f'c{i}L']
        box = [r[0] - 3, r[1] - 2, r[2] + 3, r[3] + 2]
    else:  # loose: the cell, which has room around the line
        r = rects[f'c{i}L']
        box = [max(cell[0], r[0] - 16), cell[1] + 4, min(cell[2], r[2] + 16), cell[3] - 4]
    x0, y0 = int(box[0] * scale), int(box[1] * scale)
    x1, y1 = int(box[2] * scale + 0.999), int(box[3] * scale + 0.999)
    return x0, y0, x1 - x0, y1 - y0


def main():
    for f in os.listdir(OUT) if os.path.isdir(OUT) else []:
        if f.endswith('.png') or f == 'manifest.tsv':
            os.remove(os.path.join(OUT, f))
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix='gen-screens-')
    man = []
    n = 0
    per_scale = {'plain': 9, 'neg': 4, 'led': 6, 'ledneg': 1, 'yuan': 2, 'button': 3, 'condensed': 3,
                 'smalldec': 2, 'table': 2, 'two': 1}
    jobs = [(s, page_cells(per_scale), None) for s in (1.0, 1.25, 1.5, 2.0)]
    stretch = {'plain': 5, 'neg': 1, 'led': 2, 'button': 2, 'condensed': 2, 'smalldec': 1, 'table': 1}
    jobs.append((1.0, page_cells(stretch), 125))
    jobs.append((1.0, page_cells(stretch), 150))
    for j, (scale, cells, stretch_pct) in enumerate(jobs):
        shot, rects = render(cells, scale, work, f'page{j}')
        for i, c in enumerate(cells):
            x, y, w, h = crop_box(c, i, rects, scale)
            name = f's{n:03d}.png'
            n += 1
            args = ['convert', shot, '-crop', f'{w}x{h}+{x}+{y}', '+repage']
            how = f'scale {scale}'
            if stretch_pct:
                # Windows' DPI virtualisation: the 100 % bitmap stretched bilinearly.
                args += ['-filter', 'Triangle', '-resize', f'{stretch_pct}%']
                how = f'stretched {stretch_pct} %'
            args += ['-strip', '-colors', '256', 'PNG8:' + os.path.join(OUT, name)]
            subprocess.run(args, check=True)
            want = 'refuse' if c.want is None else str(c.want)
            man.append(f'{name}\t{want}\t{c.kind}, {how}, {c.crop}: {c.drawn}')
    with open(os.path.join(OUT, 'manifest.tsv'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(man) + '\n')
    shutil.rmtree(work)
    print(f'{n} images in {OUT}')


if __name__ == '__main__':
    main()
