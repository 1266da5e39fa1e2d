"""Documents: upload files (the same ingest as the command line), see and remove documents, review Q&A pairs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from assistant.library import MAX_UPLOAD_MB
from ingest.parse import FORMATS
from ingest.store import GENERAL
from ui.common import docent, friendly_errors, viewer

st.title("Documents")
app = docent()
who = viewer()
writable = [name for name in app.library.collections() if who.may_write(name)] or ([GENERAL] if who.owner else [])

with friendly_errors("adding the documents"):
    if not writable:
        st.caption("You may read these documents; adding some to a collection needs an admin's grant.")
    files = st.file_uploader(
        f"Add documents ({', '.join(sorted(FORMATS))}; up to {MAX_UPLOAD_MB:g} MB each)",
        accept_multiple_files=True,
        type=[ext.lstrip(".") for ext in FORMATS],
    )
    collection = st.selectbox(
        "Collection",
        writable,
        index=writable.index(GENERAL) if GENERAL in writable else 0,
        help="Who may read the documents is granted per collection (docent grant GROUP COLLECTION)",
    )
    if files and collection and st.button("Ingest", type="primary"):
        bar = st.progress(0.0, text="Starting…")
        report = app.library.upload(
            [(f.name, f.getvalue()) for f in files],
            who,
            collection,
            on_step=lambda stage, done, total: bar.progress(
                min(done / max(total, 1), 1.0), text=f"{stage}: {done} of {total}"
            ),
        )
        bar.empty()
        st.success(
            f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged; "
            f"{report.chunks} chunks in the index."
        )
        for name, reason in report.failed + report.skipped:
            st.error(f"{name}: {reason}")
        for name, note in report.notes:
            st.info(f"{name}: {note}")

with friendly_errors("listing the documents"):
    documents = app.library.documents(who)
    if not documents:
        st.info("No documents yet: add some above, or run `docent ingest FOLDER` on the command line.")
    else:
        table = pd.DataFrame(documents)
        table["holdout"] = table["holdout"].map({False: "", True: "kept out of training"})
        st.dataframe(
            table[["name", "collection", "title", "format", "chunks", "pairs", "ingested_at", "holdout"]],
            hide_index=True,
            use_container_width=True,
        )
        names = {d.name: d.id for d in documents}
        with st.expander("Remove a document"):
            chosen = st.selectbox("Document", list(names), key="remove-doc")
            if st.button("Remove it, with its chunks and Q&A pairs"):
                app.library.remove_document(names[chosen], who)
                st.success(f"{chosen} removed.")
                st.rerun()

        st.subheader("Review Q&A pairs")
        st.caption("Edit, approve or delete the generated pairs before tuning. Held-out questions are for evaluation.")
        chosen = st.selectbox("Document", list(names), key="pairs-doc")
        pairs = pd.DataFrame(app.library.pairs(who, names[chosen]))
        if pairs.empty:
            st.write("This document has no pairs.")
        else:
            pairs["approve"] = pairs["status"] == "approved"
            pairs["delete"] = False
            edited = st.data_editor(
                pairs[["id", "question", "answer", "template", "split", "status", "approve", "delete"]],
                disabled=["id", "template", "split", "status"],
                hide_index=True,
                use_container_width=True,
                key=f"pairs-{names[chosen]}",
            )
            if st.button("Save changes to the pairs"):
                changed = 0
                for before, after in zip(pairs.to_dict("records"), edited.to_dict("records")):
                    if after["delete"]:
                        app.library.review_pair(int(after["id"]), who, delete=True)
                    elif (after["question"], after["answer"]) != (before["question"], before["answer"]):
                        app.library.review_pair(
                            int(after["id"]), who, question=after["question"], answer_text=after["answer"]
                        )
                    elif after["approve"] and not before["approve"]:
                        app.library.review_pair(int(after["id"]), who, approve=True)
                    else:
                        continue
                    changed += 1
                st.success(f"{changed} pairs changed.")
                st.rerun()
