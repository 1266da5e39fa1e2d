"""Chat: a conversation in one mode, answers streamed with their sources and latency, and thumbs up or down."""

from __future__ import annotations

import streamlit as st

from assistant import runs
from assistant.config import MAX_QUESTION_CHARS
from ui.common import MODE_HELP, docent, friendly_errors, latency_line, show_sources, viewer

st.title("Chat with your documents")
app = docent()
with friendly_errors("loading the workspace"):
    modes = app.modes(viewer())
    status = app.library.status(viewer())
    if status["documents"] == 0:
        st.info(
            "There are no documents yet. Add some on the **Documents** page; then tune a model on the "
            "**Tune** page. Meanwhile you can chat with the base model."
        )

    scores = app.scores(viewer())
    default = app.default_mode(modes, scores)
    conversations = st.session_state.setdefault("conversations", [{"mode": default, "messages": []}])
    current = conversations[-1]
    left, right = st.columns([4, 1])
    picked = left.segmented_control(
        "Mode",
        modes,
        default=current["mode"] if current["mode"] in modes else default,
        key=f"mode-{len(conversations)}",
        help=" · ".join(f"{m}: {MODE_HELP[m]}" for m in modes),
    )
    if right.button("New conversation", use_container_width=True) or (picked and picked != current["mode"]):
        if current["messages"]:
            conversations.append({"mode": picked or current["mode"], "messages": []})
        else:
            current["mode"] = picked or current["mode"]
        st.rerun()
    st.caption(f"Answering in **{current['mode']}** mode: {MODE_HELP[current['mode']]}.")
    measured = runs.mode_scores(scores)
    if measured:
        shown = " · ".join(f"{m} {measured[m]:.2f}" for m in modes if m in measured)
        st.caption(f"Share of the workspace's held-out questions each mode answered: {shown}.")

    for i, message in enumerate(current["messages"]):
        with st.chat_message(message["role"]):
            st.markdown(message["content"])
            if message["role"] == "assistant":
                show_sources(message["answer"], current["mode"])
                st.caption(message["latency"])
                key = f"fb-{len(conversations)}-{i}"
                rating = st.feedback("thumbs", key=key)
                if rating is not None and not message.get("rated"):
                    comment = st.text_input("Comment (optional)", key=f"{key}-comment", max_chars=2000)
                    if st.button("Send feedback", key=f"{key}-send"):
                        app.feedback(
                            message["question"], message["content"], current["mode"], rating, comment, message["run"]
                        )
                        message["rated"] = True
                        st.toast("Thank you: feedback saved.")

question = st.chat_input("Ask a question about your documents", max_chars=MAX_QUESTION_CHARS)
with friendly_errors("answering your question"):
    if question:
        history = [(m["question"], m["content"]) for m in current["messages"] if m["role"] == "assistant"]
        current["messages"].append({"role": "user", "content": question})
        with st.chat_message("user"):
            st.markdown(question)
        with st.chat_message("assistant"):
            asking = app.ask(question, current["mode"], history, access=viewer())
            text = st.write_stream(asking.text())
            result = asking.answer()
            app.library.audit_answer(viewer(), result, asking.run, "web")
            show_sources(result, current["mode"])
            st.caption(latency_line(result))
        current["messages"].append(
            {
                "role": "assistant",
                "content": result.text or str(text).strip(),  # an answer that began to loop is kept cut short
                "question": question,
                "answer": result,
                "run": asking.run,
                "latency": latency_line(result),
            }
        )
        st.rerun()
