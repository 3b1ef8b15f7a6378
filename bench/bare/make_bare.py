"""The bare baseline: kefu's NLU pipeline, no custom actions, no action server.

Writes a temporary Rasa project next to nothing in the repository:

  * ``config.yml``   -- the project's config with the NLU pipeline unchanged and the
                        policies replaced by ``RulePolicy`` only (kefu's own RulePolicy
                        entry, which already is the only policy);
  * ``data/nlu/``    -- a copy of the project's NLU data;
  * ``data/dict/``, ``data/emotion/`` -- copies, so the relative paths in the pipeline
                        (Jieba dictionary, emotion training data) resolve the same way;
  * ``domain.yml``   -- the same intents, entities and session config, one plain text
                        response ``utter_<intent>`` per intent (and ``utter_nlu_fallback``);
  * ``data/rules.yml`` -- one rule per intent: intent -> its response.

and trains it with ``rasa train`` with ``RASA_CACHE_DIRECTORY`` pointing at the
project's cache (``.rasa/cache``), so components whose fingerprints match the ones
``make train`` produced are restored, not retrained.

The model is cached as ``.kefu/bench/bare-model.tar.gz`` with ``bare-model.json``
(input digest, training seconds, which components were restored or trained); it is
retrained only when an input changes (config, NLU data, dictionary, emotion data and
the emotion component's code, kefu's intent classifier ``kefu/nlu``, the domain's
intents/entities/session config, the Rasa version, ``GENERATOR_VERSION``).

Run: .venv/bin/python bench/bare/make_bare.py [--force] [--keep-project]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
OUT_DIR = ROOT / ".kefu" / "bench"
MODEL = OUT_DIR / "bare-model.tar.gz"
META = OUT_DIR / "bare-model.json"
PROJECT_CACHE = ROOT / ".rasa" / "cache"


def _rasa_version() -> str:
    try:
        from importlib.metadata import version
        return version("rasa")
    except Exception:  # pragma: no cover - only informational
        return "unknown"


def project_domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def intents_of(domain: dict) -> list[str]:
    names = []
    for intent in domain.get("intents", []):
        names.append(next(iter(intent)) if isinstance(intent, dict) else intent)
    return names


def entities_of(domain: dict) -> list[str]:
    return [next(iter(e)) if isinstance(e, dict) else e for e in domain.get("entities", [])]


def bare_config() -> dict:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    rule_policies = [p for p in config.get("policies") or [] if p.get("name") == "RulePolicy"]
    config["policies"] = rule_policies or [{"name": "RulePolicy"}]
    return config


def bare_domain(domain: dict) -> dict:
    intents = intents_of(domain)
    responses = {f"utter_{name}": [{"text": f"收到（{name}）"}] for name in intents}
    responses["utter_nlu_fallback"] = [{"text": "抱歉，我没太明白。"}]
    return {
        "version": "3.1",
        "session_config": domain.get("session_config", {}),
        "intents": intents,
        "entities": entities_of(domain),
        "responses": responses,
    }


def bare_rules(domain: dict) -> dict:
    rules = [{"rule": f"{name} -> utter_{name}",
              "steps": [{"intent": name}, {"action": f"utter_{name}"}]}
             for name in intents_of(domain)]
    rules.append({"rule": "nlu_fallback -> utter_nlu_fallback",
                  "steps": [{"intent": "nlu_fallback"}, {"action": "utter_nlu_fallback"}]})
    return {"version": "3.1", "rules": rules}


def _files(folder: Path):
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


# Bump when the generated project changes (config, domain, rules written by this file).
GENERATOR_VERSION = "1"
# The emotion component's code and data (what its own fingerprint_addon covers, plus itself).
EMOTION_SOURCES = ("classifier.py", "signals.py", "labels.py", "dataset.py", "component.py")


def input_digest() -> str:
    """Digest of everything the bare model is built from."""
    digest = hashlib.sha256()
    domain = project_domain()
    parts = [ROOT / "config.yml"]
    for folder in ("data/nlu", "data/dict", "data/emotion"):
        parts += _files(ROOT / folder)
    parts += [ROOT / "kefu" / "emotion" / name for name in EMOTION_SOURCES]
    parts += _files(ROOT / "kefu" / "nlu")  # kefu's intent classifier: its code is the model
    for path in parts:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    digest.update(json.dumps([intents_of(domain), entities_of(domain), domain.get("session_config")],
                             sort_keys=True).encode())
    digest.update(f"{_rasa_version()} {GENERATOR_VERSION}".encode())
    return digest.hexdigest()


def write_project(target: Path) -> Path:
    domain = project_domain()
    (target / "data").mkdir(parents=True, exist_ok=True)
    for folder in ("nlu", "dict", "emotion"):
        shutil.copytree(ROOT / "data" / folder, target / "data" / folder)

    def dump(path: Path, content: dict) -> None:
        path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")

    dump(target / "config.yml", bare_config())
    dump(target / "domain.yml", bare_domain(domain))
    dump(target / "data" / "rules.yml", bare_rules(domain))
    (target / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    return target


def bare_env(base: dict | None = None) -> dict:
    env = dict(base or os.environ)
    pythonpath = env.get("PYTHONPATH")
    env.update(PYTHONPATH=str(ROOT) + (os.pathsep + pythonpath if pythonpath else ""),
               RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
               SQLALCHEMY_SILENCE_UBER_WARNING="1")
    return env


def _cache_summary(log_text: str) -> dict:
    """Which components ``rasa train`` restored from the cache and which it trained (its log)."""
    restored = sorted(set(re.findall(r"Restored component '(\w+)' from cache", log_text)))
    trained = sorted(set(re.findall(r"Starting to train component '(\w+)'", log_text)))
    return {"restored": restored, "trained": trained}


def build(force: bool = False, keep_project: bool = False, quiet: bool = False,
          reuse_stale: bool = False) -> dict:
    """Returns the metadata of an up-to-date bare model, training it when needed.
    With ``reuse_stale`` an existing model is used even when its inputs changed (``stale``)."""
    digest = input_digest()
    if not force and MODEL.exists() and META.exists():
        meta = json.loads(META.read_text())
        meta["stale"] = meta.get("digest") != digest
        if not meta["stale"] or reuse_stale:
            meta["reused"] = True
            if meta["stale"] and not quiet:
                print("warning: the bare model's inputs changed since it was trained; using it anyway "
                      "(--reuse-bare)", flush=True)
            return meta
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    project = Path(tempfile.mkdtemp(prefix="kefu-bare-"))
    log_path = OUT_DIR / "bare-train.log"
    try:
        write_project(project)
        env = bare_env()
        env["RASA_CACHE_DIRECTORY"] = str(PROJECT_CACHE)
        command = [str(VENV_BIN / "rasa"), "train", "--config", "config.yml", "--domain", "domain.yml",
                   "--data", "data/nlu", "data/rules.yml", "--out", str(project / "models"),
                   "--fixed-model-name", "bare"]
        if not quiet:
            print(f"training the bare model in {project} (log: {log_path.relative_to(ROOT)}) ...", flush=True)
        start = time.monotonic()
        with log_path.open("w") as log:
            result = subprocess.run(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    timeout=3600)
        seconds = time.monotonic() - start
        if result.returncode != 0:
            raise RuntimeError(f"rasa train failed ({result.returncode}); see {log_path}:\n"
                               + log_path.read_text()[-3000:])
        shutil.move(str(project / "models" / "bare.tar.gz"), MODEL)
        meta = {"digest": digest, "train_seconds": round(seconds, 1),
                "trained_at": datetime.now().isoformat(timespec="seconds"),
                "rasa": _rasa_version(), "cache_dir": str(PROJECT_CACHE),
                "cache": _cache_summary(log_path.read_text(errors="replace")), "reused": False}
        META.write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        return meta
    finally:
        if keep_project:
            print(f"kept the bare project: {project}")
        else:
            shutil.rmtree(project, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="retrain even when the inputs are unchanged")
    parser.add_argument("--keep-project", action="store_true", help="keep the temporary project folder")
    parser.add_argument("--write-only", metavar="DIR", help="only write the bare project into DIR")
    args = parser.parse_args()
    if args.write_only:
        print(write_project(Path(args.write_only)))
        return
    meta = build(force=args.force, keep_project=args.keep_project)
    state = "up to date (reused)" if meta.get("reused") else f"trained in {meta['train_seconds']} s"
    print(f"bare model {MODEL.relative_to(ROOT)}: {state}")
    cache = meta.get("cache", {})
    if cache:
        print(f"  components trained: {', '.join(cache.get('trained') or []) or '-'}")
        print(f"  restored from cache: {', '.join(cache.get('restored') or []) or '-'}")


if __name__ == "__main__":
    main()
