"""Evaluate: run `docent eval` in the background and read its reports: charts and every question."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from assistant.evaluate import ALL_MODES
from assistant.metrics import HEADLINE
from assistant.report import NOT_ANSWERED, grounding_rows, right
from ui.common import docent, friendly_errors, viewer

st.title("Evaluate the modes")
st.caption("Every mode answers the same held-out questions; the scores say which answers best.")
app = docent()

with friendly_errors("starting the evaluation"), st.form("eval"):
    available = app.modes(viewer()) + (["oracle"] if "retrieval" in app.modes(viewer()) else [])
    modes = st.multiselect("Modes", [m for m in ALL_MODES if m in available], default=available)
    limit = st.number_input("Questions (a seeded sample; 0 = all held-out questions)", 0, 10_000, 100, 50)
    if st.form_submit_button("Run evaluation", type="primary") and modes:
        app.jobs.start_eval(modes, int(limit), viewer())
        st.success("The evaluation runs in the background; its report appears below when it is done.")


@st.fragment(run_every=5)
def reports() -> None:
    with friendly_errors("reading the reports"):
        log = app.jobs.log_tail("eval.log", 3)
        if log:
            st.caption(log.splitlines()[-1][-200:])
        found = app.jobs.reports(viewer())
        if not found:
            st.info("No evaluation yet.")
            return
        labels = {f"{r['created']} · {r['question_set']['n']} questions · {', '.join(r['modes'])}": r for r in found}
        report = labels[st.selectbox("Report", list(labels))]
        shown = (*HEADLINE, "abstain", "loops", "length")
        summary = pd.DataFrame({m: {k: s[k] for k in shown if k in s} for m, s in report["modes"].items()}).T
        if not summary.empty:
            st.dataframe(summary.style.format("{:.3f}"), use_container_width=True)
            metric = st.segmented_control("Chart", list(HEADLINE), default="contains")
            if metric:
                st.bar_chart(summary[metric], horizontal=True, height=220)
        standing = grounding_rows(report)
        if standing:
            st.caption(
                "What the answers stand on: of the answers given from sources, the share a sentence of "
                "them supports and the share whose sentence is in the question's own document; questions "
                "kept from the model because no source is about them; answers cut short when they began to "
                "repeat"
            )
            st.dataframe(pd.DataFrame(standing).T, use_container_width=True)
        held_back = {m: s["unanswerable"] for m, s in report["modes"].items() if "unanswerable" in s}
        if held_back:
            st.caption(
                "Questions the documents do not answer: the share each mode abstained on, and the share it "
                "answered anyway (invented)"
            )
            table = {
                m: {
                    "questions": u["n"],
                    "abstained": u["abstained"],
                    "invented": u["hallucinated"],
                    "loops": u["loops"],
                }
                for m, u in held_back.items()
            }
            st.dataframe(
                pd.DataFrame(table).T.style.format("{:.3f}", subset=["abstained", "invented", "loops"]),
                use_container_width=True,
            )
        latency = {m: s["latency"] for m, s in report["modes"].items() if "latency" in s}
        if latency:
            st.caption("Latency (seconds)")
            st.dataframe(pd.DataFrame(latency).T.drop(columns="n").style.format("{:.2f}"), use_container_width=True)
        questions = report["questions"]
        only = st.toggle("Only questions where the modes disagree")
        rows = []
        for q in questions:
            verdicts = {m: right(a, q["reference"] is not None) for m, a in q["answers"].items()}
            if only and len(set(verdicts.values())) <= 1:
                continue
            rows.append(
                {
                    "question": q["question"],
                    "reference": q["reference"] or NOT_ANSWERED,
                    **{m: ("✓ " if verdicts[m] else "✗ ") + a["text"] for m, a in q["answers"].items()},
                }
            )
        st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
        page = (report["path"] / "report.html").read_bytes()
        st.download_button("Download the HTML report", page, file_name="docent-report.html", mime="text/html")


reports()
