"""Compare: one question, every mode answering side by side, with sources, latency and the reference answer."""

from __future__ import annotations

import streamlit as st

from assistant.config import MAX_QUESTION_CHARS
from ui.common import MODE_HELP, docent, friendly_errors, latency_line, show_sources, viewer

st.title("Compare the modes")
st.caption("The same question answered by the base model, the tuned model, retrieval, and both together.")
app = docent()
with friendly_errors("comparing the modes"):
    modes = app.modes(viewer())
    if len(modes) < 4:
        st.info(
            "Some modes need more: retrieval needs documents (Documents page), tuned and both a tuned model "
            "(Tune page)."
        )
    with st.form("compare"):
        question = st.text_input(
            "Question",
            placeholder="How many days of annual leave do employees earn per month?",
            max_chars=MAX_QUESTION_CHARS,
        )
        asked = st.form_submit_button("Compare")
    if asked and question.strip():
        reference = app.library.reference_answer(question, viewer())
        if reference:
            st.success(f"Reference answer from the evaluation set: **{reference}**")
        columns = st.columns(len(modes))
        for column, mode in zip(columns, modes):
            with column:
                st.subheader(mode)
                st.caption(MODE_HELP[mode])
                asking = app.ask(question, mode, access=viewer())
                shown = st.empty()
                shown.write_stream(asking.text())
                result = asking.answer()
                app.library.audit_answer(viewer(), result, asking.run, "web")
                shown.markdown(result.text)  # an answer that began to loop, cut short
                st.caption(latency_line(result))
                show_sources(result, mode)
