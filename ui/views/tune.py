"""Tune: start a fine-tuning run that goes on in the background, follow its progress, see every run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from assistant import runs
from assistant.config import RECIPES, TuneConfig
from ui.common import docent, friendly_errors, viewer

st.title("Tune the model on your documents")
app = docent()
defaults = TuneConfig()
if not (viewer().owner or viewer().admin):  # the page is not listed for them; its address alone opens nothing
    st.error("Tuning is for the workspace's admins.")
    st.stop()

with friendly_errors("starting the run"):
    status = app.library.status(viewer())
    if status["pairs"] == 0:
        st.info("There are no Q&A pairs to train on yet: add documents on the **Documents** page first.")
    elif status["running"]:
        st.info("A run is going on; its progress is below.")
    else:
        with st.form("tune"):
            recipe = st.selectbox(
                "Recipe",
                RECIPES,
                index=RECIPES.index(defaults.recipe),
                help="closed-book: question alone; raft: question with retrieved passages; mixed: both; "
                "staged: closed-book epochs to learn the facts, then raft to read sources",
            )
            epochs = st.number_input("Epochs", 0.1, 20.0, float(defaults.epochs), 0.5)
            rate = st.number_input("Learning rate", 1e-6, 1e-2, defaults.learning_rate, format="%.0e")
            pairs = st.number_input("Train on at most this many pairs (0 = all)", 0, 100_000, 0, 100)
            budget = st.number_input(
                "Time budget in minutes (0 = no limit)",
                0,
                24 * 60,
                0,
                5,
                help="The run times a few steps first, then gives up epochs, then pairs, to finish in time",
            )
            held = [name for name, n in app.library.collections().items() if n]
            chosen = st.multiselect(
                "Collections to learn",
                held,
                default=held,
                help="Only people who may read every collection chosen may answer with the tuned model: leave out "
                "restricted ones (hr) for a model everyone may use",
            )
            if st.form_submit_button("Start tuning", type="primary") and chosen:
                app.jobs.start_tune(
                    {
                        "recipe": recipe,
                        "epochs": epochs,
                        "learning_rate": rate,
                        "max_pairs": int(pairs),
                        "time_budget": int(budget),
                        "collections": ",".join(chosen),
                    }
                )
                st.success("Tuning started. It goes on if you close this page.")


@st.fragment(run_every=3)
def progress() -> None:
    with friendly_errors("reading the runs"):
        found = runs.all_runs(app.workspace)
        for run in [r for r in found if r.status == "running"]:
            p = run.progress
            st.subheader(f"Run {run.id}")
            if not p:
                st.write("Preparing the training data, loading the model and timing a few steps…")
                continue
            plan = run.config.get("plan")
            if plan:
                st.caption(
                    f"Expected to take about {plan['total_s'] / 60:.0f} min on this machine"
                    + (f" (budget {plan['budget_min']:g} min)" if plan.get("budget_min") else "")
                )
            if p.get("scoring"):
                st.write(f"Answering the held-out questions in {' and '.join(p['scoring'])} mode…")
            left = p["remaining_s"]
            st.progress(
                p["step"] / max(p["max_steps"], 1),
                text=f"step {p['step']} of {p['max_steps']} · about {left // 60:.0f} min {left % 60:.0f} s left",
            )
            if p["losses"]:
                st.line_chart(pd.DataFrame(p["losses"], columns=["step", "loss"]).set_index("step"), height=220)
            if p["heldout"]:
                st.caption("Held-out loss by epoch: " + ", ".join(f"{e:g}: {v:.3f}" for e, v in p["heldout"]))
            for scored in run.metrics.get("scores", {}).get("epochs", []):
                st.caption(
                    f"Epoch {scored['epoch']:g} on held-out questions: both {scored['both']['contains']:.2f}, "
                    f"tuned {scored['tuned']['contains']:.2f}"
                )
        if found:
            db = app.library.db()
            rows = []
            for run in reversed(found):
                m = run.metrics
                unseen = runs.unseen_documents(run, db)
                scores = runs.mode_scores(m.get("scores", {}))
                rows.append(
                    {
                        "run": run.id,
                        "status": run.status,
                        "recipe": run.config.get("tune", {}).get("recipe"),  # as recorded, even by an older Docent
                        "steps": m.get("steps"),
                        "minutes": round(m["seconds"] / 60, 1) if "seconds" in m else None,
                        "expected": round(run.config["plan"]["total_s"] / 60, 1) if run.config.get("plan") else None,
                        "train loss": m.get("train_loss"),
                        "held-out loss": m["heldout_loss"][-1][1] if m.get("heldout_loss") else None,
                        **{f"{mode} (held-out)": scores.get(mode) for mode in ("both", "tuned", "retrieval", "base")},
                        "documents": f"stale: {len(unseen)} new or changed" if unseen else "up to date",
                    }
                )
            st.subheader("Runs")
            latest = runs.latest_finished(app.workspace)
            if latest is not None and "scores" in latest.metrics:
                st.info(runs.verdict(latest.metrics["scores"]))
            st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
        log = app.jobs.log_tail("tune.log", 8)
        if log:
            with st.expander("Log of the last run"):
                st.code(log)


progress()

with st.expander("Remove a run"), friendly_errors("removing the run"):
    removable = [r.id for r in reversed(runs.all_runs(app.workspace)) if r.status != "running" or r.orphaned()]
    chosen_run = st.selectbox("Run", removable, help="its adapter, checkpoints and record; logged in the audit log")
    sure = st.checkbox("What the adapter learnt goes with it: no mode answers with this run again")
    if chosen_run and sure and st.button(f"Remove {chosen_run}", type="primary"):
        runs.remove(app.workspace, chosen_run, by=viewer().name)
        st.success(f"Removed run {chosen_run}; the next question uses the newest run left.")
