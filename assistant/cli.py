"""`docent`: the command line. Each subcommand is one function below; heavy imports happen inside them,
so `docent --help` answers at once.

    docent ingest data/sample            documents -> chunks, index, Q&A pairs
    docent search "vpn certificate"      the best chunks, like PrivateGPT's search mode
    docent ask "How do I reset my password?" --mode retrieval
    docent pairs                         counts and samples;  docent pairs export pairs.jsonl
    docent tune                          LoRA fine-tuning on the pairs;  docent runs;  docent export DIR
    docent eval --limit 300              every answer mode on the held-out questions, scored; report.html
    docent ui                            the web app, on http://localhost:8501
    docent users / grant / revoke / collections / audit    who may read what (assistant/admin.py)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant import admin
from assistant.admin import acting_as
from assistant.config import (
    FUSIONS,
    LLM_TIMEOUT_S,
    LOCAL_HOSTS,
    MODES,
    USES_ADAPTER,
    AnswerConfig,
    TuneConfig,
    check_question,
    llm_timeout,
    value_type,
)
from ingest.config import IngestConfig, workspace_path


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One flag per dataclass field, its help from the field's metadata."""
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if f.type in (bool, "bool"):
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            parser.add_argument(
                flag, dest=f.name, type=value_type(f), default=None, help=f"{help_text} (default: {f.default})"
            )


def config_from(args: argparse.Namespace, cls: type) -> Any:
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}
    return cls(**given)


def cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.loader import load
    from ingest.pipeline import ingest

    cfg = config_from(args, IngestConfig)
    report = ingest(
        [Path(p) for p in args.paths], cfg, workspace_path(args.workspace), progress=not args.quiet, load_llm=load
    )
    print(
        f"{workspace_path(args.workspace)}: {report.added} added, {report.updated} updated, {report.unchanged} "
        f"unchanged, {report.removed} removed, {len(report.failed)} failed, {len(report.skipped)} skipped "
        f"({report.seconds:.1f} s)"
    )
    pairs = report.pairs
    print(
        f"  {report.chunks} chunks ({report.new_chunks} new); Q&A pairs: {pairs.get('train', 0)} train, "
        f"{pairs.get('heldout', 0)} held-out questions, {pairs.get('unseen', 0)} on held-out documents"
    )
    for label, lines in (("failed", report.failed), ("skipped", report.skipped), ("note", report.notes)):
        for file, reason in lines:
            print(f"  {label:7s} {file}: {reason}")
    return report.exit_code(cfg.strict)


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.library import Library
    from assistant.retrieve import Retriever

    who = acting_as(args)
    if args.file:
        return _search_file(Retriever(workspace_path(args.workspace)).within(who), Path(args.file), args)
    if not args.query:
        raise SystemExit("docent search: give a QUERY, or --file QUESTIONS.jsonl")
    query = check_question(args.query)
    retriever = Retriever(workspace_path(args.workspace)).within(who)
    (sources,) = retriever.search([query], k=args.k, fusion=args.fusion)
    Library(workspace_path(args.workspace)).audit_search(who, query, sources, "cli")
    if args.json:
        print(json.dumps({"question": query, "results": [s.to_json() for s in sources]}, ensure_ascii=False))
        return 0
    for s in sources:
        print(f"{s.rank}. {s.doc} › {s.heading or s.title}  (score {s.score:.3f})\n   {s.snippet(240)}\n")
    return 0


def _search_file(retriever: Any, file: Path, args: argparse.Namespace) -> int:
    """One JSON object a line in (with a `question` field), one a line out, the input's fields kept."""
    from tqdm import tqdm

    items, bad = [], 0
    with open(file, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or not str(item.get("question", "")).strip():
                    raise ValueError('no "question" field')
                check_question(str(item["question"]))
            except ValueError as err:
                print(
                    f'{file}:{number}: skipped, {err}; each line must be a JSON object with a "question"',
                    file=sys.stderr,
                )
                bad += 1
                continue
            items.append(item)
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(args.out, "w", encoding="utf-8")) if args.out else sys.stdout
        for start in tqdm(range(0, len(items), 64), desc="Searching", unit="batch", disable=not args.out):
            batch = items[start : start + 64]
            for item, sources in zip(batch, retriever.search([i["question"] for i in batch], args.k, args.fusion)):
                out.write(json.dumps({**item, "results": [s.to_json() for s in sources]}, ensure_ascii=False) + "\n")
    return 1 if bad else 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant import runs
    from assistant.answer import answer
    from assistant.generate import open_engine
    from assistant.library import Library
    from assistant.retrieve import Retriever
    from ingest.store import Workspace

    cfg = config_from(args, AnswerConfig)
    question = check_question(args.question)  # before any model loads
    workspace = workspace_path(args.workspace)
    who = acting_as(args)
    run = runs.find(workspace, args.run, who) if args.mode in USES_ADAPTER else None
    print("Loading models…", file=sys.stderr, flush=True)
    retriever = Retriever(workspace).within(who) if args.mode in ("retrieval", "both") else None
    llm = open_engine(cfg.llm, run, cfg.llm_url, args.llm_key, args.llm_timeout)
    if run is not None:
        unseen = runs.unseen_documents(run, Workspace(workspace).connect(), who)
        if unseen:
            shown = ", ".join(unseen[:5]) + (f" and {len(unseen) - 5} more" if len(unseen) > 5 else "")
            print(
                f"Note: run {run.id} is stale: it has not seen {len(unseen)} documents added or changed since "
                f"it was trained ({shown}). Run `docent tune` to include them.",
                file=sys.stderr,
            )
    show = None if args.json else lambda t: print(t, end="", flush=True)
    result = answer(question, args.mode, llm, retriever, cfg, show, run.adapter_for(args.mode) if run else None)
    Library(workspace).audit_answer(who, result, run.id if run else None, "cli")
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return 0
    print(" (cut short: it began to repeat itself)" if result.cut else "")
    if result.reread:
        print("(Read again by the base model: the tuned model's answer had no support in the sources.)")
    if not result.covered:
        print(f"\n{result.why}. You may look here:")
        for s in result.nearby:
            print(f"  {s.doc} › {s.heading or s.title}\n      {s.snippet()}")
    if result.sources:
        print("\nSources:")
        for s in result.sources:
            print(f"  [{s.rank}] {s.doc} › {s.heading or s.title}  (score {s.score:.3f})\n      {s.snippet()}")
    if result.support:
        print("\nSupported by:")
        for found in result.support:
            print(f"  [{found.rank}] {found.sentence}")
    elif result.unsupported:
        print("\nNot supported: no sentence of the sources holds this answer. Check it before relying on it.")
    t = result.timing
    if not result.covered:
        print(f"\n{args.mode}: retrieval {result.retrieve_s * 1000:.0f} ms; the model was not asked")
        return 0
    rate = f" ({t.tokens_per_s:.1f} tokens/s)" if t.tokens_per_s else ""  # none where the answer was held whole
    print(
        f"\n{args.mode}: retrieval {result.retrieve_s * 1000:.0f} ms, first token {t.first_token_s:.2f} s, "
        f"{t.tokens} tokens in {t.total_s:.2f} s{rate}"
    )
    return 0


def cmd_pairs(args: argparse.Namespace) -> int:
    from ingest import dataset, store
    from ingest.store import Workspace

    db = Workspace(workspace_path(args.workspace)).connect()
    split = None if args.split == "all" else args.split
    if args.action == "export":
        if not args.file:
            raise SystemExit("docent pairs export: give the FILE to write, e.g. docent pairs export pairs.jsonl")
        n = dataset.export(db, acting_as(args), Path(args.file), split or None, args.with_source)
        print(f"wrote {n} pairs ({args.split}) to {args.file}")
        return 0
    for name, kinds in sorted(store.pair_counts(db).items()):
        detail = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        print(f"{name}: {sum(kinds.values())} ({detail})")
    for p in dataset.samples(db, acting_as(args), split or "train", args.samples):
        print(f"\n[{p.split} · {p.template}] {p.document} › {p.heading}\n  Q: {p.question}\n  A: {p.answer}")
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from assistant import runs
    from assistant.tune import tune

    cfg = config_from(args, TuneConfig)
    if args.search and args.resume:
        raise ValueError("--search starts new runs; --resume goes on with one: give one of them")
    if args.search:
        from assistant.search import search

        run = search(cfg, workspace_path(args.workspace), args.search, progress=not args.quiet)
    else:
        run = tune(cfg, workspace_path(args.workspace), resume=args.resume, progress=not args.quiet)
    if run.status == "interrupted":
        print(f"Run {run.id} stopped with a checkpoint; go on with: docent tune --resume {run.id}")
        return 130
    m = run.metrics
    heldout = f", held-out loss {m['heldout_loss'][-1][1]:.3f}" if m.get("heldout_loss") else ""
    plan = run.config.get("plan")
    expected = f" (expected {plan['total_s']:.0f} s)" if plan else ""
    cut = f" (the {plan['budget_min']:g}-minute budget ran out there)" if plan and "budget_reached_at_step" in m else ""
    print(
        f"Run {run.id} finished in {m['seconds']:.0f} s{expected}: {m['steps']} steps{cut}, train loss "
        f"{m['train_loss']:.3f}{heldout}. Adapter: {run.adapter}"
    )
    if "scores" in m:
        print(runs.verdict(m["scores"]))
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from assistant import runs
    from ingest.store import Workspace

    workspace = workspace_path(args.workspace)
    db = Workspace(workspace).connect()  # a folder that is not a workspace, or a damaged one, says so here
    if args.remove:
        if getattr(args, "user", None):
            raise ValueError("--remove acts as the workspace's owner: leave out --user")
        gone = runs.remove(workspace, args.remove)
        print(f"removed run {gone.id}: its adapter, checkpoints and record; the next question uses the newest left")
        return 0
    who = acting_as(args)
    found = runs.visible_runs(workspace, who)
    if not found:
        print(f"No fine-tuning runs {who.shown()} may use in {workspace} yet: run `docent tune`.")
        return 0
    default = runs.latest_finished(workspace, who)
    print(
        f"{'run':32s} {'status':11s} {'steps':>5s} {'loss':>6s} {'held-out':>8s} {'both':>5s} {'tuned':>5s} "
        f"{'retr.':>5s} {'base':>5s}  documents"
    )
    for run in found:
        m = run.metrics
        loss = f"{m['train_loss']:.3f}" if "train_loss" in m else "-"
        held = f"{m['heldout_loss'][-1][1]:.3f}" if m.get("heldout_loss") else "-"
        scores = runs.mode_scores(m.get("scores", {}))
        cells = " ".join(
            f"{scores[k]:5.2f}" if k in scores else f"{'-':>5s}" for k in ("both", "tuned", "retrieval", "base")
        )
        unseen = runs.unseen_documents(run, db, who)
        seen = f"stale: {len(unseen)} added or changed since" if unseen else "up to date"
        mark = " *" if default is not None and run.id == default.id else ""
        print(f"{run.id + mark:32s} {run.status:11s} {m.get('steps', 0):5d} {loss:>6s} {held:>8s} {cells}  {seen}")
    print("\n* the adapter `docent ask --mode tuned|both` uses unless given --run; both, tuned, retr(ieval), base:")
    print("  the share of held-out questions each mode answered (contains), at the run's best epoch")
    if default is not None and "scores" in default.metrics:
        print(f"\n{default.id}: {runs.verdict(default.metrics['scores'])}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from assistant import runs
    from assistant.export import export_merged

    run = runs.find(workspace_path(args.workspace), args.run)
    target = export_merged(run, Path(args.dir))
    print(f"Merged model of run {run.id} written to {target}; load it with AutoModelForCausalLM.from_pretrained")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant import evaluate, precision, report, runs
    from assistant.generate import open_engine
    from assistant.remote import shown_url
    from assistant.retrieve import Retriever

    workspace = workspace_path(args.workspace)
    if args.compare:
        found = [report.load(_eval_folder(workspace, name)) for name in args.compare]
        print(report.compare(found[0], found[1], (args.compare[0], args.compare[1])))
        return 0
    cfg = config_from(args, AnswerConfig)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in evaluate.ALL_MODES]
    if unknown or not modes:
        raise ValueError(f"unknown mode {unknown[0] if unknown else '(none)'}; modes: {', '.join(evaluate.ALL_MODES)}")
    who = acting_as(args)
    retriever = Retriever(workspace).within(who)
    needs_adapter = any(m in USES_ADAPTER for m in modes)
    run = runs.find(workspace, args.run, who) if needs_adapter or args.run else runs.latest_finished(workspace, who)
    if args.questions:
        questions = evaluate.file_questions(Path(args.questions))
    else:
        questions = evaluate.workspace_questions(retriever.db, run.snapshot["documents"] if run else None, who)
        if not questions:
            raise ValueError(
                f"{workspace} has no held-out questions: ingest with --holdout-share above 0, or give --questions FILE"
            )
    questions = evaluate.sample(questions, args.limit, args.seed)
    for file in args.unanswerable or []:
        questions += evaluate.sample(evaluate.file_questions(Path(file), unanswerable=True), args.limit, args.seed)
    meta = {
        "workspace": str(workspace),
        **({"user": who.name} if not who.owner else {}),  # what they may read made the answers: kept apart
        "run": run.id if run else None,
        "modes": modes,
        "seed": args.seed,
        "question_set": {
            "source": args.questions or "held-out questions",
            "n": len(questions),
            "limit": args.limit,
            **({"unanswerable": args.unanswerable} if args.unanswerable else {}),
        },
        "index_generation": retriever.generation,
        "precision": "server" if cfg.llm_url else precision.choose(),
    }
    print("Loading models…", file=sys.stderr, flush=True)
    llm = open_engine(cfg.llm, run if needs_adapter else None, cfg.llm_url, args.llm_key, args.llm_timeout)
    cfg = dataclasses.replace(cfg, llm_url=shown_url(cfg.llm_url))  # reports keep no password the URL carried
    folder = workspace / "evals" / evaluate.settings_key({**meta, "settings": dataclasses.asdict(cfg)})
    built = evaluate.run(
        questions,
        modes,
        llm,
        retriever,
        cfg,
        folder,
        {**meta, "created": evaluate.now()},
        args.batch_size,
        args.seed,
        progress=not args.quiet,
        adapters={m: run.adapter_for(m) for m in modes if m in USES_ADAPTER} if run and needs_adapter else None,
    )
    if args.out:
        report.write(built, Path(args.out))
    answerable = sum(1 for q in questions if q.answer is not None)
    if answerable:
        print(f"\n{answerable} questions with an answer; contains, F1 and exact match with 95% intervals\n")
        for mode, s in built["modes"].items():
            cells = "  ".join(f"{k} {_with_interval(s, k)}" for k in ("contains", "f1", "exact"))
            print(f"  {mode:10s} {cells}  length {s['length']:.1f}  loops {s['loops']:.3f}  cut {s['cut']:.3f}")
            if "support" in s:
                found = s["support"]
                in_doc = "" if found["in_gold_doc"] is None else f", {found['in_gold_doc']:.3f} of them in its document"
                print(
                    f"  {'':10s} not asked {s['not_asked']:.3f}; of {found['answers']} answers given, "
                    f"{found['supported']:.3f} supported by a sentence of their sources{in_doc}"
                )
    if len(questions) > answerable:
        print(
            f"\n{len(questions) - answerable} questions the documents do not answer: the share abstained and the "
            "share answered anyway (invented), with 95% intervals\n"
        )
        for mode, s in built["modes"].items():
            u = s["unanswerable"]
            print(
                f"  {mode:10s} abstained {_with_interval(u, 'abstained')}  invented "
                f"{_with_interval(u, 'hallucinated')}  loops {u['loops']:.3f}  not asked {u['not_asked']:.3f}"
            )
    shown = Path(args.out) if args.out else folder
    print(f"\nReport: {shown / 'report.html'} (and report.json); kept in {folder}")
    return 0


def _with_interval(summary: dict[str, Any], key: str) -> str:
    low, high = summary["intervals"][key]
    return f"{summary[key]:.3f} [{low:.3f}, {high:.3f}]"


def cmd_ui(args: argparse.Namespace) -> int:
    """Becomes the Streamlit server (exec, not a child), so that a supervisor's SIGTERM reaches the server itself."""
    import getpass
    import os

    from assistant import access
    from assistant.library import MAX_UPLOAD_MB

    env = {**os.environ, "DOCENT_WORKSPACE": str(workspace_path(args.workspace).resolve())}
    if args.llm:
        env["DOCENT_LLM"] = args.llm
    given = {"DOCENT_LLM_URL": args.llm_url, "DOCENT_LLM_KEY": args.llm_key, "DOCENT_API_URL": args.api}
    if args.llm_timeout is not None:
        given["DOCENT_LLM_TIMEOUT"] = str(llm_timeout(args.llm_timeout))  # refused here, not at the first question
    env.update({name: value for name, value in given.items() if value})
    if args.api and not env.get("DOCENT_API_KEY"):
        env["DOCENT_API_KEY"] = getpass.getpass("API key for the Docent API (blank if it needs none): ")
    if "DOCENT_PASSWORD" in env and not env["DOCENT_PASSWORD"]:
        raise ValueError(
            "DOCENT_PASSWORD is set but empty, which would leave the app open: set a password, "
            "or unset it to run without one"
        )
    if args.password:
        env["DOCENT_PASSWORD_HASH"] = access.hash_password(admin.new_password("Password for the web app's owner: "))
        env.pop("DOCENT_PASSWORD", None)
    protected = env.get("DOCENT_PASSWORD") or env.get("DOCENT_PASSWORD_HASH")
    if args.host not in LOCAL_HOSTS and not protected:
        print(
            f"Note: the app listens on {args.host} without a password; anyone who reaches it can read your "
            "documents. Use --password (or DOCENT_PASSWORD).",
            file=sys.stderr,
        )
    app = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        args.host,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.maxUploadSize",
        str(int(MAX_UPLOAD_MB)),
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]
    print(f"Docent: http://{args.host}:{args.port} (workspace {env['DOCENT_WORKSPACE']}); Ctrl-C stops it", flush=True)
    os.execve(sys.executable, command, env)
    return 0  # not reached: the process is now the server


def cmd_serve(args: argparse.Namespace) -> int:
    """The OpenAI-compatible API (assistant/api.py) on uvicorn."""
    import uvicorn

    from assistant import api, keys
    from assistant.remote import url_from
    from assistant.service import Docent

    workspace = workspace_path(args.workspace)
    docent = Docent(
        workspace, args.llm or AnswerConfig().llm, url_from(args.llm_url), args.llm_key, llm_timeout=args.llm_timeout
    )
    has_keys = keys.any_active(docent.library.db())
    if args.host not in LOCAL_HOSTS and not has_keys:
        raise ValueError(
            f"--host {args.host} without an API key would let anyone who reaches it read your documents: "
            "create one first with `docent keys create LABEL`"
        )
    if not has_keys:
        print(
            "Note: the workspace has no API key, so anyone on this machine may ask; `docent keys create LABEL` "
            "makes one, and from then on every request needs a key.",
            file=sys.stderr,
        )
    print(f"Docent API: http://{args.host}:{args.port}/v1 (workspace {workspace}); Ctrl-C stops it", flush=True)
    app = api.create_app(docent, require_key=args.host not in LOCAL_HOSTS)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from assistant import keys
    from ingest import store
    from ingest.store import Workspace

    db = Workspace(workspace_path(args.workspace)).connect(create=True)
    if args.action in ("create", "revoke") and not args.label:
        raise SystemExit(f"docent keys {args.action}: give the key's LABEL, e.g. docent keys {args.action} helpdesk")
    if args.action == "create":
        key = keys.create(db, args.label, args.user.strip() if args.user else None)
        who = f", answering as {args.user.strip()}" if args.user else ", answering as the workspace's owner"
        print(f"API key for {args.label.strip()}{who} (shown this once; keep it secret):\n{key}")
    elif args.action == "revoke":
        keys.revoke(db, args.label)
        print(f"revoked the key labelled {args.label.strip()!r}: requests with it now get 401")
    else:
        listed = store.api_keys(db)
        for k in listed:
            state = f"revoked {k.revoked_at}" if k.revoked_at else "in use"
            print(f"{k.label:24s} {k.shown}…  {k.person or '(owner)':16s} created {k.created_at}  {state}")
        if not listed:
            print("no API keys: `docent keys create LABEL` makes one")
    return 0


def _eval_folder(workspace: Path, name: str) -> Path:
    path = Path(name)
    return path if path.exists() else workspace / "evals" / name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="docent", description="Chat with your documents; measure tuning vs retrieval."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
        "ingest": (cmd_ingest, "read documents into the workspace: chunks, index, Q&A pairs"),
        "search": (cmd_search, "the chunks that best match a query"),
        "ask": (cmd_ask, "answer a question"),
        "pairs": (cmd_pairs, "Q&A pairs: counts and samples, or export to JSONL"),
        "tune": (cmd_tune, "fine-tune the LLM on the Q&A pairs (LoRA)"),
        "runs": (cmd_runs, "list fine-tuning runs; --remove RUN deletes one and its adapter"),
        "export": (cmd_export, "write a run's merged model as a plain transformers folder"),
        "eval": (cmd_eval, "answer questions in every mode and score them side by side"),
        "ui": (cmd_ui, "open the web app: chat, compare modes, manage documents, tune, evaluate"),
        "serve": (cmd_serve, "an OpenAI-compatible API: chat completions in every mode, search, metrics"),
        "keys": (cmd_keys, "API keys for docent serve: create LABEL [--user NAME], list, revoke LABEL"),
        "users": (admin.cmd_users, "people: add NAME [--admin] [--groups G] [--password], remove, list, groups"),
        "grant": (admin.cmd_grant, "let a group read (or --write) a collection; --list shows the grants"),
        "revoke": (admin.cmd_revoke, "take a grant back: GROUP COLLECTION"),
        "collections": (admin.cmd_collections, "the collections and who reads them; rename OLD NEW; empty NAME"),
        "audit": (admin.cmd_audit, "the audit log: questions, sign-ins, grants and revokes; --format csv or jsonl"),
    }
    parsers = {}
    for name, (func, help_text) in commands.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument("--workspace", help="workspace folder (default: $DOCENT_WORKSPACE or data/workspace)")
        parsers[name] = p
    parsers["ingest"].add_argument("paths", nargs="+", metavar="PATH", help="files or folders, read recursively")
    parsers["ingest"].add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_flags(parsers["ingest"], IngestConfig)
    s = parsers["search"]
    s.add_argument("query", nargs="?", help="what to look for")
    s.add_argument("-k", type=int, default=5, help="how many chunks (default: 5)")
    s.add_argument("--fusion", default="rrf", choices=FUSIONS, help="ranking (default: rrf)")
    s.add_argument("--file", help="JSONL with a `question` field per line: answer them all, one JSON line each")
    s.add_argument("--out", help="with --file: write here instead of standard output")
    s.add_argument("--json", action="store_true", help="print JSON")
    a = parsers["ask"]
    a.add_argument("question")
    a.add_argument("--mode", default="retrieval", choices=MODES, help="how to answer (default: retrieval)")
    a.add_argument("--run", help="with tuned or both: the run whose adapter answers (default: newest finished)")
    a.add_argument("--json", action="store_true", help="print the answer, its sources and what supports it as JSON")
    add_config_flags(a, AnswerConfig)
    p = parsers["pairs"]
    p.add_argument("action", nargs="?", default="show", choices=["show", "export"])
    p.add_argument("file", nargs="?", help="with export: the JSONL file to write")
    p.add_argument("--split", default="train", choices=["train", "heldout", "unseen", "all"])
    p.add_argument("--samples", type=int, default=5, help="samples to show (default: 5)")
    p.add_argument("--with-source", action="store_true", help="with export: add each pair's source")
    t = parsers["tune"]
    t.add_argument("--resume", metavar="RUN", help="go on from RUN's last checkpoint, with its settings")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--search",
        action="append",
        metavar="SETTING=A,B",
        help="try these values on the held-out questions (short probe runs), then train the best; "
        "repeat for a grid, e.g. --search learning_rate=1e-3,2e-3",
    )
    add_config_flags(t, TuneConfig)
    v = parsers["eval"]
    v.add_argument("--questions", help="JSONL with question, answer and optionally doc (default: held-out questions)")
    v.add_argument(
        "--unanswerable",
        action="append",
        metavar="FILE",
        help="JSONL of questions the documents do not answer (another corpus's), scored on abstaining; "
        "repeat for several files",
    )
    v.add_argument("--limit", type=int, default=0, help="a seeded sample of this many questions of each set (0 = all)")
    v.add_argument("--seed", type=int, default=0, help="seed for the sample and the bootstrap")
    v.add_argument("--modes", default="base,tuned,retrieval,both,oracle", help="comma-separated modes to compare")
    v.add_argument("--run", help="the run whose adapter answers tuned and both (default: newest finished)")
    v.add_argument("--out", help="also write report.json and report.html here")
    v.add_argument("--batch-size", type=int, default=16, help="questions answered together (default: 16)")
    v.add_argument("--compare", nargs=2, metavar=("A", "B"), help="two evaluations (ids or folders) side by side")
    v.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_flags(v, AnswerConfig)
    u = parsers["ui"]
    u.add_argument("--host", default="localhost", help="address to listen on (default: localhost only)")
    u.add_argument("--port", type=int, default=8501, help="port (default: 8501)")
    u.add_argument(
        "--password",
        action="store_true",
        help="ask for the owner's password, which signs in with the name left empty (people sign in with their "
        "own: docent users add NAME --password)",
    )
    u.add_argument("--llm", help="base LLM when no run is tuned (default: embedded)")
    u.add_argument(
        "--api",
        metavar="URL",
        help="answer through a running `docent serve` (e.g. http://localhost:8000/v1), loading no model here; "
        "its key in DOCENT_API_KEY, or asked for",
    )
    w = parsers["serve"]
    w.add_argument("--host", default="localhost", help="address to listen on (default: localhost only)")
    w.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    w.add_argument("--llm", help="base LLM when no run is tuned (default: embedded)")
    for p in (a, v, u, w):
        if p is not a and p is not v:  # ask and eval have it from AnswerConfig
            p.add_argument("--llm-url", help="an OpenAI-compatible model server that answers (vLLM, Ollama)")
        p.add_argument(
            "--llm-key", help="the model server's key (better: DOCENT_LLM_KEY, kept out of the shell history)"
        )
        p.add_argument(
            "--llm-timeout",
            type=float,
            metavar="SECONDS",
            help=f"how long the model server may take to begin an answer (DOCENT_LLM_TIMEOUT; {LLM_TIMEOUT_S:g} s)",
        )
    k = parsers["keys"]
    k.add_argument("action", nargs="?", default="list", choices=["create", "list", "revoke"])
    k.add_argument("label", nargs="?", help="with create and revoke: who or what uses the key, e.g. helpdesk")
    k.add_argument("--user", metavar="NAME", help="with create: the person the key answers as (default: the owner)")
    admin.configure(parsers)
    parsers["runs"].add_argument("--remove", metavar="RUN", help="delete this run, its adapter and checkpoints")
    e = parsers["export"]
    e.add_argument("dir", help="new folder for the merged model")
    e.add_argument("--run", help="which run (default: the newest finished)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import sqlite3

    from ingest.models import ModelError
    from ingest.store import WorkspaceError, private_files

    private_files()  # what Docent writes (workspaces, logs, reports) is its owner's alone
    try:
        return args.func(args)
    except (WorkspaceError, ModelError, ValueError, OSError) as err:
        print(f"docent {args.command}: {err}", file=sys.stderr)
        return 2
    except sqlite3.OperationalError as err:  # locked, disk full, read-only: the database may well be whole
        print(f"docent {args.command}: {workspace_path(args.workspace) / 'docent.db'}: {err}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as err:
        db = workspace_path(args.workspace) / "docent.db"
        print(
            f"docent {args.command}: {db} is damaged ({err}); restore it from a backup, or ingest into a new "
            "--workspace",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        kept = "; the workspace is as it was before this command" if args.command == "ingest" else ""
        print(f"\ndocent {args.command}: interrupted{kept}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
