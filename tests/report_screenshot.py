#!/usr/bin/env python3
"""The HTML report in a real browser: lockwatch writes a fixture's report, headless Chromium
renders it, and the screenshot must exist and not be blank. The report must be self-contained:
no scripts, stylesheets, fonts or images from anywhere else.

usage: report_screenshot.py LOCKWATCH [SCREENSHOT.png]
"""
import os, re, shutil, struct, subprocess, sys, tempfile, zlib

lockwatch = sys.argv[1]
keep = sys.argv[2] if len(sys.argv) > 2 else None
browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
if not browser:
    sys.exit("report: chromium not found (make test installs Debian's chromium)")

with tempfile.TemporaryDirectory() as tmp:
    html = os.path.join(tmp, "report.html")
    md = os.path.join(tmp, "report.md")
    run = subprocess.run([lockwatch, "--report", html, "--report", md, "fixtures/incident/input.log"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 1:  # the incident escalates
        sys.exit(f"report: lockwatch exited {run.returncode}: {run.stderr}")
    page = open(html, encoding="utf-8").read()
    external = re.findall(r'(?:src|href)\s*=\s*"(?!#)[^"]*"|@import|url\(', page)
    if external or "<script" in page:
        sys.exit(f"report: not self-contained: {external or '<script>'}")
    for needle in ["<svg", "stale_lock", "persistent", "multi_profile", "<title>", "What the runbook says"]:
        if needle not in page:
            sys.exit(f"report: the HTML lacks {needle!r}")
    if "| **persistent** |" not in open(md, encoding="utf-8").read():
        sys.exit("report: the Markdown lacks the persistent escalation")

    png = keep or os.path.join(tmp, "report.png")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,900", f"--screenshot={png}", "file://" + html],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=True)
    data = open(png, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("report: the screenshot is not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    bit_depth, colour_type = data[24], data[25]
    channels = {2: 3, 6: 4}.get(colour_type)
    if bit_depth != 8 or channels is None:
        sys.exit(f"report: unexpected PNG format (depth {bit_depth}, colour type {colour_type})")
    raw = zlib.decompress(idat)
    # Undo the scanline filters (PNG spec 9) to get the pixels themselves.
    stride = width * channels
    pixels, previous, pos = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1: line[i] = (line[i] + a) & 255
            elif kind == 2: line[i] = (line[i] + b) & 255
            elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels.append(bytes(line))
        previous = line
    # A blank page is one colour. The report has text, bars and markers: many colours, some
    # pixels far from white, and the timeline's green and red.
    colours, dark, green = set(), 0, 0
    for row in pixels[::3]:
        for x in range(0, stride, channels * 3):
            r, g, b = row[x], row[x + 1], row[x + 2]
            colours.add((r, g, b))
            dark += r + g + b < 384
            green += g > 140 and r < 90 and b < 110
    samples = (height // 3 + 1) * (width // 3)
    if len(colours) < 16 or dark < samples * 0.005 or green == 0:
        sys.exit(f"report: blank-looking screenshot: {len(colours)} colours, {dark} dark and {green} green samples of {samples}")
    print(f"report: {len(page)} bytes of HTML; screenshot {width}x{height}: {len(colours)} colours, "
          f"{dark / samples:.1%} dark, {green} green samples: ok")

    # At scale: a 77-minute log of 8 hosts with some 2 000 transient profiles and one incident.
    # The report must lead with the incident: its key is the first lane, the transient keys are
    # one aggregate row, not a lane each; the ticks fall on round times; the unhealthy host has
    # a lane; and the first screen of the rendered page shows the incident's key.
    big = os.path.join(tmp, "incident77.log")
    incident_key = subprocess.run([sys.executable, "tests/incident_log.py", big], check=True,
                                  capture_output=True, text=True).stdout.strip()
    html = os.path.join(tmp, "incident77.html")
    run = subprocess.run([lockwatch, "--report", html, big], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 1:
        sys.exit(f"report at scale: lockwatch exited {run.returncode}: {run.stderr}")
    page = open(html, encoding="utf-8").read()
    svg = page[page.index("<svg"):page.index("</svg>")]
    labels = re.findall(r'<text x="6" y="[\d.]+"><title>([^<]*)</title>', svg)
    if not labels or not labels[0].startswith(incident_key):
        sys.exit(f"report at scale: the incident's key is not the first lane: {labels[:3]}")
    if len(labels) > 40:
        sys.exit(f"report at scale: {len(labels)} lanes; the transient keys should be folded into one row")
    if not any("more keys of" in l for l in labels) or not any(l.startswith("host worker-3") for l in labels):
        sys.exit(f"report at scale: no aggregate row or no lane for the unhealthy host: {labels}")
    ticks = re.findall(r'<text class="axis" x="[\d.]+" y="[\d.]+" text-anchor="middle">([\d:]+)</text>', svg)
    if len(ticks) < 3 or not all(t.endswith("0") or t.endswith("5") for t in ticks):
        sys.exit(f"report at scale: ticks not at round times: {ticks}")
    png = os.path.join(tmp, "incident77.png") if not keep else keep.replace(".png", "-scale.png")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,900", f"--screenshot={png}", "file://" + html],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=True)
    if open(png, "rb").read()[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("report at scale: no screenshot")
    # The lane's place on the page: the heading, the cards and the axis take some 270 px, a
    # lane 24 px; the first lane is the incident's, so it is within the first screen (900 px).
    print(f"report at scale: {len(labels)} rows ({labels[0][:20]}… first), ticks {', '.join(ticks)}: ok")
