"""Draw models/gpt2-mini/loss-curve.svg from training-log.json (plain SVG, no plotting library needed).

Left axis: smoothed training loss (cross-entropy over the corpus vocabulary, nats). Right axis: full-vocabulary
top-1 accuracy of the capital on the training phrasing and on the two held-out phrasings, measured every 500 steps.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
W, H, L, R, T, B = 720, 440, 60, 60, 30, 130  # the bottom margin holds the legend


def main(model_dir=ROOT / "models" / "gpt2-mini"):
    log = json.loads((Path(model_dir) / "training-log.json").read_text())
    steps = [e["step"] for e in log]
    max_step, max_loss = max(steps), max(e["loss"] for e in log)
    x = lambda s: L + (W - L - R) * s / max_step  # noqa: E731
    yl = lambda v: T + (H - T - B) * (1 - v / max_loss)  # noqa: E731
    ya = lambda a: T + (H - T - B) * (1 - a)  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="14">gpt2-mini training</text>']
    for i in range(6):  # grid + left (loss) and right (accuracy) ticks
        v = max_loss * i / 5
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{yl(v):.1f}" y2="{yl(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{L - 6}" y="{yl(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>')
        out.append(f'<text x="{W - R + 6}" y="{ya(i / 5) + 4:.1f}">{i * 20}%</text>')
    for i in range(5):
        s = max_step * i / 4
        out.append(f'<text x="{x(s):.1f}" y="{H - B + 18}" text-anchor="middle">{int(s)}</text>')
    out.append(f'<text x="{W / 2}" y="{H - B + 34}" text-anchor="middle">step</text>')
    out.append(f'<text x="14" y="{H / 2}" transform="rotate(-90 14 {H / 2})" text-anchor="middle">training loss (nats)</text>')
    out.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#888"/>')
    pts = " ".join(f"{x(e['step']):.1f},{yl(e['loss']):.1f}" for e in log)
    out.append(f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    series = [("top1_capital_of_is", "#2ca02c", '"The capital of X is" (trained)'),
              ("top1_possessive_capital_is", "#d62728", '"X\'s capital is" (held out)'),
              ("top1_capital_city_of_is", "#ff7f0e", '"The capital city of X is" (held out)')]
    legend = [("#1f77b4", "training loss (left axis)")]
    for key, color, label in series:
        pts = " ".join(f"{x(e['step']):.1f},{ya(e[key]):.1f}" for e in log if key in e)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="5,3"/>')
        legend.append((color, f"capital top-1, {label} (right axis)"))
    for i, (color, label) in enumerate(legend):
        yy = H - B + 44 + 16 * i
        dash = "" if i == 0 else ' stroke-dasharray="5,3"'
        out.append(f'<line x1="{L}" x2="{L + 24}" y1="{yy}" y2="{yy}" stroke="{color}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{L + 30}" y="{yy + 4}">{label.replace("&", "&amp;")}</text>')
    out.append("</svg>")
    (Path(model_dir) / "loss-curve.svg").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
