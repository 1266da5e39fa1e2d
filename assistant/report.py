"""Evaluation reports: report.json for scripts, report.html for people, and two reports side by side.

The HTML page is self-contained (inline SVG and a few lines of script, nothing fetched): one chart per headline
metric with its 95% interval, latency, the paired table, and every question with each mode's answer and
sources, filterable to the questions where the modes disagree.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from assistant.metrics import HEADLINE
from assistant.results import Result

COLOURS = {"base": "#8a8f98", "tuned": "#d9822b", "retrieval": "#2b7bd9", "both": "#1f9e6e", "oracle": "#7a4fd1"}
NOT_ANSWERED = "(not in the documents: abstaining is right)"
LABELS = {
    "contains": "Contains the reference",
    "f1": "Token F1",
    "exact": "Exact match",
    "semantic": "Semantic similarity",
}


def build(
    by_mode: dict[str, list[Result]], summaries: dict[str, Any], meta: dict[str, Any], paired: list[dict[str, Any]]
) -> dict[str, Any]:
    modes = list(by_mode)
    first = by_mode[modes[0]] if modes else []
    questions = []
    for i, r in enumerate(first):
        questions.append(
            {
                "question": r.question,
                "reference": r.reference,
                "doc": r.doc,
                "slice": meta["slices"][i],
                "answers": {
                    m: {
                        "text": by_mode[m][i].answer,
                        **by_mode[m][i].scores,
                        "sources": [
                            {"rank": s.rank, "doc": s.doc, "heading": s.heading, "text": s.text}
                            for s in by_mode[m][i].sources
                        ],
                        **_grounding(by_mode[m][i]),
                    }
                    for m in modes
                },
            }
        )
    return {
        **{k: v for k, v in meta.items() if k != "slices"},
        "modes": summaries,
        "paired": paired,
        "questions": questions,
    }


def _grounding(r: Result) -> dict[str, Any]:
    found = None if r.support is None else [f.to_json() for f in r.support]
    return {"asked": r.covered, "cut": r.cut, "support": found, "reread": r.reread}


def grounding_rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per mode that read sources: what its answers stand on (the report's table and the web app's)."""
    rows = {}
    for mode, s in report["modes"].items():
        found = s.get("support")
        if found:
            rows[mode] = {
                "answers given": found["answers"],
                "supported": found["supported"],
                "support in its document": found["in_gold_doc"],
                "not asked": s.get("not_asked", 0.0),
                "cut short": s.get("cut", 0.0),
                "read again by the base model": s.get("reread", 0.0),
            }
    return rows


def _grounding_table(report: dict[str, Any]) -> str:
    rows = grounding_rows(report)
    if not rows:
        return ""
    head = "".join(f"<th>{k}</th>" for k in next(iter(rows.values())))
    body = "".join(
        f"<tr><td>{m}</td>"
        + "".join(
            "<td>-</td>" if v is None else f"<td>{v:.3f}</td>" if isinstance(v, float) else f"<td>{v}</td>"
            for v in row.values()
        )
        + "</tr>"
        for m, row in rows.items()
    )
    return (
        '<h2>What the answers stand on</h2><p class="meta">Of the answers given from sources (abstentions '
        "aside), the share that a sentence of their sources supports, and the share of those whose sentence lies "
        "in the question's own document; questions the relevance gate kept from the model; answers cut short when "
        f"they began to repeat themselves.</p><table><tr><th>mode</th>{head}</tr>{body}</table>"
    )


def write(report: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (folder / "report.html").write_text(render(report), encoding="utf-8")


def load(path: Path) -> dict[str, Any]:
    file = path / "report.json" if path.is_dir() else path
    if not file.exists():
        raise ValueError(f"no report at {path}: give an evaluation folder or its report.json")
    return json.loads(file.read_text(encoding="utf-8"))


def compare(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> str:
    lines = [f"{'mode':10s} {'metric':10s} {names[0][:18]:>18s} {names[1][:18]:>18s} {'change':>8s}"]
    for mode in [m for m in a["modes"] if m in b["modes"]]:
        for key in (*HEADLINE, "length", "abstain", "loops"):
            if key in a["modes"][mode] and key in b["modes"][mode]:
                x, y = a["modes"][mode][key], b["modes"][mode][key]
                lines.append(f"{mode:10s} {key:10s} {x:18.3f} {y:18.3f} {y - x:+8.3f}")
        if "unanswerable" in a["modes"][mode] and "unanswerable" in b["modes"][mode]:
            x, y = a["modes"][mode]["unanswerable"]["abstained"], b["modes"][mode]["unanswerable"]["abstained"]
            lines.append(f"{mode:10s} {'held back':10s} {x:18.3f} {y:18.3f} {y - x:+8.3f}")
    return "\n".join(lines)


def _bar_chart(report: dict[str, Any], key: str) -> str:
    modes = [m for m in report["modes"] if key in report["modes"][m]]
    if not modes:
        return ""
    top = max(1.0, max(report["modes"][m]["intervals"].get(key, [0, 0])[1] for m in modes))
    width, row = 420, 26
    parts = [f'<svg width="{width + 170}" height="{row * len(modes) + 10}" role="img" aria-label="{LABELS[key]}">']
    for i, mode in enumerate(modes):
        stats = report["modes"][mode]
        value = stats[key]
        low, high = stats["intervals"].get(key, [value, value])
        y = 5 + i * row
        scale = width / top
        parts.append(f'<text x="0" y="{y + 16}" font-size="13">{html.escape(mode)}</text>')
        parts.append(
            f'<rect x="80" y="{y + 3}" width="{value * scale:.1f}" height="16" '
            f'fill="{COLOURS.get(mode, "#555")}"><title>{value:.3f}</title></rect>'
        )
        parts.append(
            f'<line x1="{80 + low * scale:.1f}" x2="{80 + high * scale:.1f}" y1="{y + 11}" y2="{y + 11}" '
            f'stroke="#222" stroke-width="1.5"/>'
        )
        parts.append(
            f'<text x="{90 + max(value, high) * scale:.1f}" y="{y + 16}" font-size="12">'
            f"{value:.3f} [{low:.3f}, {high:.3f}]</text>"
        )
    parts.append("</svg>")
    return f"<figure><figcaption>{LABELS[key]} (95% interval)</figcaption>{''.join(parts)}</figure>"


def _latency_table(report: dict[str, Any]) -> str:
    rows = []
    for mode, stats in report["modes"].items():
        lat = stats.get("latency")
        if lat:
            rows.append(
                f"<tr><td>{mode}</td><td>{lat['first_token_p50']:.2f} s</td><td>{lat['first_token_p95']:.2f} s"
                f"</td><td>{lat['total_p50']:.2f} s</td><td>{lat['total_p95']:.2f} s</td></tr>"
            )
    if not rows:
        return ""
    return (
        "<h2>Latency</h2><p>Single answers as a user gets them; <code>both</code> shows its answer once it is "
        "whole.</p>"
        "<table><tr><th>mode</th><th>first text p50</th><th>p95</th><th>whole answer p50</th>"
        f"<th>p95</th></tr>{''.join(rows)}</table>"
    )


def right(answer: dict[str, Any], answerable: bool) -> bool:
    """Right is the reference found in the answer, or, where the documents do not answer, an abstention."""
    return bool(answer["contains"] if answerable else answer["abstain"])


def _unanswerable_table(report: dict[str, Any]) -> str:
    rows = []
    for mode, stats in report["modes"].items():
        u = stats.get("unanswerable")
        if u:
            cells = "".join(
                f"<td>{u[k]:.3f} [{u['intervals'][k][0]:.3f}, {u['intervals'][k][1]:.3f}]</td>"
                for k in ("abstained", "hallucinated")
            )
            rows.append(f"<tr><td>{mode}</td><td>{u['n']}</td>{cells}<td>{u['loops']:.3f}</td></tr>")
    if not rows:
        return ""
    invents = "".join(
        f"<tr><td>{p['a']} vs {p['b']}</td><td>{p['a_abstains_b_invents']}</td>"
        f"<td>{p['b_abstains_a_invents']}</td></tr>"
        for p in report["paired"]
        if "a_abstains_b_invents" in p
    )
    return (
        "<h2>Questions the documents do not answer</h2><table><tr><th>mode</th><th>n</th><th>abstained (95% "
        "interval)</th><th>answered anyway</th><th>loops</th></tr>" + "".join(rows) + "</table>"
        "<h3>Abstains in one mode, invents in the other</h3><table><tr><th>pair</th><th>first only abstains</th>"
        f"<th>second only abstains</th></tr>{invents}</table>"
    )


def _standing(answer: dict[str, Any]) -> str:
    """A line under an answer: not asked, cut short, or not supported by what it read."""
    notes = []
    if not answer.get("asked", True):
        notes.append("not asked: the relevance gate found the documents do not cover it")
    if answer.get("cut"):
        notes.append("cut short: it began to repeat itself")
    if answer.get("reread"):
        notes.append("read again by the base model: the adapter's answer had no support in its sources")
    if answer.get("support") == [] and answer.get("asked", True) and not answer.get("abstain"):
        notes.append("not supported by its sources")
    return "".join(f'<div class="meta">{n}</div>' for n in notes)


def render(report: dict[str, Any]) -> str:
    modes = list(report["modes"])
    summary_rows = []
    for mode in modes:
        s = report["modes"][mode]
        cells = "".join(f"<td>{s[k]:.3f}</td>" if k in s else "<td>-</td>" for k in (*HEADLINE, "abstain", "loops"))
        recall = next((f"{v:.3f}" for k, v in s.items() if k.startswith("recall@")), "-")
        summary_rows.append(
            f"<tr><td>{mode}</td><td>{s['n']}</td>{cells}<td>{s.get('length', 0):.1f}</td><td>{recall}</td></tr>"
        )
    paired_rows = "".join(
        f"<tr><td>{p['a']} vs {p['b']}</td><td>{p['a_only']}</td><td>{p['b_only']}</td><td>{p['both']}</td>"
        f"<td>{p['neither']}</td></tr>"
        for p in report["paired"]
    )
    question_rows = []
    for q in report["questions"]:
        answerable = q["reference"] is not None
        verdicts = {m: right(q["answers"][m], answerable) for m in modes}
        agree = int(len(set(verdicts.values())) <= 1)
        answer_cells = []
        for m in modes:
            a = q["answers"][m]
            sources = "".join(
                f"<li><b>[{s['rank']}] {html.escape(s['doc'])}</b> › {html.escape(s['heading'])}<br>"
                f"{html.escape(s['text'][:600])}</li>"
                for s in a["sources"]
            )
            more = f"<details><summary>sources</summary><ol>{sources}</ol></details>" if sources else ""
            cls = "right" if verdicts[m] else "wrong"
            answer_cells.append(f'<td class="{cls}">{html.escape(a["text"])}{_standing(a)}{more}</td>')
        question_rows.append(
            f'<tr data-agree="{agree}"><td>{html.escape(q["question"])}<div class="meta">{html.escape(q["doc"])} · '
            f"{html.escape(q['slice'])}</div></td><td>{html.escape(q['reference'] or NOT_ANSWERED)}</td>"
            f"{''.join(answer_cells)}</tr>"
        )
    charts = "".join(_bar_chart(report, key) for key in HEADLINE)
    setup = html.escape(json.dumps({k: v for k, v in report.items() if k not in ("modes", "paired", "questions")}))
    head = "".join(f"<th>{m}</th>" for m in modes)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Docent evaluation</title><style>
body{{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:4px 8px;vertical-align:top;font-size:13px}} th{{background:#f4f4f4}}
.right{{background:#e9f7ef}} .wrong{{background:#fdecea}} .meta{{color:#777;font-size:11px}}
figure{{margin:8px 0 16px}} figcaption{{font-weight:600;margin-bottom:4px}} pre{{white-space:pre-wrap}}
</style></head><body><h1>Docent evaluation</h1><pre class="meta">{setup}</pre>
<h2>Summary</h2><table><tr><th>mode</th><th>n</th>{"".join(f"<th>{k}</th>" for k in (*HEADLINE, "abstain", "loops"))}
<th>length</th><th>recall</th></tr>{"".join(summary_rows)}</table>{charts}{_grounding_table(report)}
{_unanswerable_table(report)}
{_latency_table(report)}
<h2>Right in one mode, wrong in the other (contains)</h2><table><tr><th>pair</th><th>first only</th>
<th>second only</th><th>both</th><th>neither</th></tr>{paired_rows}</table>
<h2>Questions</h2><label><input type="checkbox" id="disagree"> only questions where the modes disagree</label>
<table id="questions"><tr><th>question</th><th>reference</th>{head}</tr>{"".join(question_rows)}</table>
<script>document.getElementById('disagree').addEventListener('change',function(e){{
document.querySelectorAll('#questions tr[data-agree]').forEach(function(r){{
r.style.display=(e.target.checked&&r.dataset.agree==='1')?'none':'';}});}});</script></body></html>"""
