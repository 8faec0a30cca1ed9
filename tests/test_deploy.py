"""The container and cluster recipe (issue 18), checked offline: no image can be built here, so the Dockerfile's
install steps must be the ones .ci/run runs (CI proves those), the build context and the COPY lines must give an
app that runs (the image's file tree is assembled in a temporary folder and every page run there), and
deploy/kubernetes.yaml must validate against the Kubernetes JSON schemas (kubernetes-validate, strict) and keep
its safety settings: health probes, non-root, read-only root, sticky sessions, /_stcore/metrics refused, the
OIDC secrets only by reference."""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
CI = ROOT / ".ci" / "run"
MANIFESTS = ROOT / "deploy" / "kubernetes.yaml"
CONFIG = ROOT / ".streamlit" / "config.toml"
HEALTH = "/_stcore/health"
K8S_VERSIONS = ("1.31.0", "1.37.0")  # an older supported release and the newest kubernetes-validate bundles


# ------------------------------------------------------------------------------------------------ parsing
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    out, buf = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        instr, _, args = buf.strip().partition(" ")
        out.append((instr.upper(), args.strip()))
        buf = ""
    assert not buf, "the Dockerfile ends in a continuation line"
    return out


def instructions(name: str) -> list[str]:
    return [a for i, a in dockerfile() if i == name]


def _commands(script: str) -> list[str]:
    """Shell commands of a RUN line or a script line, each as its words joined by one space: split on ``&&``,
    ``||`` and ``;`` outside quotes, output redirections dropped."""
    lex = shlex.shlex(script, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    out, words, skip = [], [], False
    for tok in lex:
        if skip:
            skip = False
        elif tok in ("&&", "||", ";", "|"):
            out.append(words)
            words = []
        elif tok in (">", ">>", "2>", "&>"):
            skip = True
            if words and words[-1] in ("1", "2"):
                words.pop()
        else:
            words.append(tok)
    out.append(words)
    return [" ".join(w) for w in out if w]


def docker_commands() -> list[str]:
    return [c for run in instructions("RUN") for c in _commands(run)]


def ci_lines() -> list[str]:
    return [ln.strip() for ln in CI.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]


def ci_commands() -> list[str]:
    return [c for ln in ci_lines() for c in _commands(ln)]


def manifests() -> list[dict]:
    return [d for d in yaml.safe_load_all(MANIFESTS.read_text(encoding="utf-8")) if d]


def kind(k: str) -> list[dict]:
    return [d for d in manifests() if d["kind"] == k]


def container() -> dict:
    (dep,) = kind("Deployment")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    return c


def max_upload_mb() -> int:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))["server"]["maxUploadSize"]


# ------------------------------------------------------------------------------------------------ Dockerfile
def test_install_steps_are_the_ones_ci_runs():
    ci, docker = ci_commands(), docker_commands()
    venv = [c for c in ci if " -m venv " in c]
    pip = [c for c in ci if "/pip install" in c]
    assert venv == ["python3 -m venv .venv"] and pip == [".venv/bin/pip install -q -r requirements.txt"], ci
    # the same commands, in the same order, in one RUN line (the venv made for this install only)
    (run,) = [r for r in instructions("RUN") if "pip" in r]
    assert _commands(run) == venv + pip
    assert [c for c in docker if "pip " in c or " venv " in c] == venv + pip
    # the Debian package: the command CI runs, for packages CI installs
    (update,) = [c for c in ci if c.startswith("apt-get update")]
    (install,) = [c for c in ci if c.startswith("apt-get install")]
    ci_pkgs = set(re.findall(r"missing\+=\((\S+)\)", CI.read_text(encoding="utf-8")))
    assert ci_pkgs >= {"chromium"}, ci_pkgs
    (d_update,) = [c for c in docker if c.startswith("apt-get update")]
    (d_install,) = [c for c in docker if c.startswith("apt-get install")]
    assert d_update == update
    ci_flags = install.replace('"${missing[@]}"', "").replace("${missing[@]}", "").split()
    d_words = d_install.split()
    assert d_words[: len(ci_flags)] == ci_flags, (d_install, install)
    assert set(d_words[len(ci_flags) :]) == {"chromium"}  # kaleido's browser; nginx stays outside the container
    assert set(d_words[len(ci_flags) :]) <= ci_pkgs
    # every RUN command is one of: CI's, list clean-up, the user, the app's own plotly.js copy
    for c in docker:
        assert (
            c in ci or c == d_install or c.startswith(("rm -rf /var/lib/apt/lists", "useradd ", ".venv/bin/python -c "))
        ), c
    # the environment CI exports
    export = next(ln for ln in ci_lines() if ln.startswith("export "))
    ci_env = dict(kv.split("=", 1) for kv in shlex.split(export)[1:])
    d_env = dict(kv.split("=", 1) for env in instructions("ENV") for kv in shlex.split(env))
    for k, v in ci_env.items():
        assert d_env.get(k) == v, k


def test_base_image_is_slim_python_311_on_cis_debian():
    (base,) = instructions("FROM")
    assert base.startswith("python:3.11-slim"), base
    assert "Python 3.11" in (ROOT / "requirements.txt").read_text(encoding="utf-8")
    release = Path("/etc/os-release")
    info = dict(ln.split("=", 1) for ln in release.read_text().splitlines() if "=" in ln) if release.exists() else {}
    if info.get("ID", "").strip('"') == "debian":  # CI's machine: the image's Debian packages are the ones it tests
        codename = info["VERSION_CODENAME"].strip('"')
        assert base == f"python:3.11-slim-{codename}", f"CI runs on Debian {codename}"


COPIED = {
    "requirements.txt",
    "app.py",
    "pages/",
    "misc_dash/",
    "data/",
    "static/",
    ".streamlit/config.toml",
    "docs/DATA_DICTIONARY.md",
}


def copies() -> list[tuple[str, str]]:
    out = []
    for args in instructions("COPY"):
        words = shlex.split(args)
        assert not any(w.startswith("--") for w in words), args
        *srcs, dest = words
        out += [(s, dest) for s in srcs]
    return out


def test_copies_the_app_and_nothing_else():
    srcs = [s for s, _ in copies()]
    assert set(srcs) == COPIED and len(srcs) == len(COPIED)
    for s in srcs:
        assert s not in (".", "./", "*") and not {"secrets.toml", "tests", ".venv", "artifacts", ".git"} & set(
            s.rstrip("/").split("/")
        ), s
    # requirements first, installed before the code is copied (a code change keeps the installed layer)
    seq = [(i, a) for i, a in dockerfile() if i in ("COPY", "RUN")]
    first_pip = next(k for k, (i, a) in enumerate(seq) if i == "RUN" and "pip install" in a)
    assert [a for i, a in seq[:first_pip] if i == "COPY"] == ["requirements.txt ./"]
    assert instructions("WORKDIR") == ["/app"]


def test_runs_as_a_non_root_user_with_a_health_check():
    seq = dockerfile()
    users = [(k, a) for k, (i, a) in enumerate(seq) if i == "USER"]
    assert users, "no USER: the server would run as root"
    k_user, user = users[-1]
    uid = user.split(":")[0]
    assert uid not in ("root", "0")
    assert not any(i == "RUN" for i, _ in seq[k_user:]), "nothing runs as root after USER"
    (useradd,) = [c for c in docker_commands() if c.startswith("useradd ")]
    assert f"--uid {uid}" in useradd
    (check,) = instructions("HEALTHCHECK")
    assert f"http://localhost:8501{HEALTH}" in check
    assert "curl" not in check  # not in slim images: Python's urllib instead
    assert instructions("EXPOSE") == ["8501"]
    # the cluster runs the same user
    pod = kind("Deployment")[0]["spec"]["template"]["spec"]
    assert str(pod["securityContext"]["runAsUser"]) == uid and pod["securityContext"]["runAsNonRoot"] is True


def test_binds_all_addresses_only_inside_the_container():
    (entry,) = instructions("ENTRYPOINT")
    cmd = json.loads(entry)  # exec form: signals reach streamlit
    assert cmd[:3] == ["/app/.venv/bin/streamlit", "run", "app.py"]
    assert "--server.port=8501" in cmd and "--server.address=0.0.0.0" in cmd
    assert not instructions("CMD")
    others = [f"{i} {a}" for i, a in dockerfile() if i != "ENTRYPOINT"]
    assert not any("0.0.0.0" in o for o in others), others
    assert not any("STREAMLIT_SERVER_ADDRESS" in o for o in others)
    cfg = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert cfg["server"]["address"] == "127.0.0.1"
    # the manifests: no command, args or env that changes the address; the one 0.0.0.0 is the metrics deny-list
    c = container()
    assert "command" not in c and "args" not in c
    assert not any("ADDRESS" in e["name"] for e in c.get("env", []))
    text = "\n".join(ln for ln in MANIFESTS.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("#"))
    hits = [ln.strip() for ln in text.splitlines() if "0.0.0.0" in ln]
    assert hits == ["nginx.ingress.kubernetes.io/denylist-source-range: 0.0.0.0/0,::/0"], hits


# ------------------------------------------------------------------------------------------------ build context
def _ignore_rules() -> list[tuple[bool, re.Pattern]]:
    """.dockerignore as Docker reads it: each line a pattern (``*`` within a name, ``**`` across folders, ``!``
    lets a path back in), the last matching line wins, and a pattern that matches a folder matches what it holds."""
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pat = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
        rx, i = "", 0
        while i < len(pat):
            if pat.startswith("**/", i):
                rx, i = rx + "(?:.*/)?", i + 3
            elif pat.startswith("**", i):
                rx, i = rx + ".*", i + 2
            elif pat[i] == "*":
                rx, i = rx + "[^/]*", i + 1
            elif pat[i] == "?":
                rx, i = rx + "[^/]", i + 1
            else:
                rx, i = rx + re.escape(pat[i]), i + 1
        rules.append((neg, re.compile(f"^{rx}$")))
    return rules


def ignored(path: str, rules=None) -> bool:
    rules = _ignore_rules() if rules is None else rules
    parts = path.split("/")
    prefixes = ["/".join(parts[: k + 1]) for k in range(len(parts))]
    out = False
    for neg, rx in rules:
        if any(rx.match(p) for p in prefixes):
            out = not neg
    return out


NEVER_IN_THE_IMAGE = [
    ".streamlit/secrets.toml",
    "secrets.toml",
    "misc_dash/secrets.toml",
    ".env",
    "site.env",
    "deploy/prod.env",
    "data/default_cohort/.env",
    "tls.key",
    "misc_dash/cert.pem",
    ".venv/bin/python",
    ".git/config",
    "artifacts/screens/overview.png",
    "tests/test_app.py",
    "tests/data/upload.csv",
    "data/hospital_cohort/patients.csv",
    "data/upload.zip",
    "patients.csv",
    "cohort.zip",
    "export/labs.parquet",
    "misc_dash/__pycache__/loading.cpython-311.pyc",
    "misc_dash/ui/state.pyc",
    ".pytest_cache/v/cache/nodeids",
    ".hypothesis/examples/x",
    "static/plotly-4.1.1.min.js",
    "benchmarks/bench_room.py",
    "Dockerfile",
    "README.md",
]


def test_dockerignore_keeps_secrets_patient_data_and_tooling_out():
    rules = _ignore_rules()
    kept = [p for p in NEVER_IN_THE_IMAGE if not ignored(p, rules)]
    assert not kept, f"would enter the image: {kept}"
    for p in (
        "app.py",
        "requirements.txt",
        ".streamlit/config.toml",
        "pages/data.py",
        "misc_dash/ui/plot_component.js",
        "data/default_cohort/patients.csv",
        "static/favicon.png",
        "docs/DATA_DICTIONARY.md",
    ):
        assert not ignored(p, rules), p


def _context_files(src: str) -> list[Path]:
    """The files of ``src`` (a path in the repository) that the build context holds."""
    rules = _ignore_rules()
    base = ROOT / src.rstrip("/")
    files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
    return [p for p in files if not ignored(p.relative_to(ROOT).as_posix(), rules)]


def image_tree(dest_root: Path) -> Path:
    """/app as the Dockerfile's COPY lines would lay it out from this checkout's build context."""
    for src, dest in copies():
        files = _context_files(src)
        assert files, f"COPY {src}: nothing in the build context"
        for f in files:
            if src.endswith("/"):
                target = dest_root / dest / f.relative_to(ROOT / src)
            elif dest.endswith("/"):
                target = dest_root / dest / f.name
            else:
                target = dest_root / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
    return dest_root


def test_every_tracked_runtime_file_reaches_the_image():
    tracked = subprocess.run(
        ["git", "ls-files", "pages", "misc_dash", "data", "static"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    rules = _ignore_rules()
    dropped = [p for p in tracked if ignored(p, rules)]
    assert not dropped, f"tracked files the image would miss: {dropped}"


APP_RUN = r"""
import sys
from streamlit.testing.v1 import AppTest
pages = sys.argv[1:]
at = AppTest.from_file("app.py", default_timeout=120)
at.run()
bad = {}
for page in pages:
    at.switch_page(page).run()
    if at.exception:
        bad[page] = [e.message for e in at.exception]
print("BAD", bad)
sys.exit(1 if bad else 0)
"""


def test_the_image_tree_runs_every_page(tmp_path):
    """The app as the image holds it: COPY lines over the build context, then the Dockerfile's own plotly.js step,
    then every page in Streamlit's AppTest from that folder (a file the app reads but the image lacks fails)."""
    app = image_tree(tmp_path / "app")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("MISC_DASH")}
    env.update(HOME=str(tmp_path / "home"), MISC_DASH_CACHE="off", PYTHONDONTWRITEBYTECODE="1")
    (step,) = [c for c in docker_commands() if c.startswith(".venv/bin/python -c ")]
    code = step.removeprefix(".venv/bin/python -c ")
    r = subprocess.run([sys.executable, "-c", code], cwd=app, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert list((app / "static").glob("plotly-*.min.js")), "the plotly.js copy is not in static/"
    pages = sorted(p.relative_to(app).as_posix() for p in (app / "pages").glob("*.py"))
    assert len(pages) >= 10
    r = subprocess.run(
        [sys.executable, "-c", APP_RUN, *pages], cwd=app, env=env, capture_output=True, text=True, timeout=540
    )
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])


# ------------------------------------------------------------------------------------------------ Kubernetes
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_manifests_validate_against_the_kubernetes_schemas(version):
    import kubernetes_validate

    docs = manifests()
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "Ingress"}
    for d in docs:
        # strict: an unknown or misspelt field fails too; a kind without a schema raises (never skipped)
        kubernetes_validate.validate(d, version, strict=True)
        assert "namespace" not in d["metadata"], "namespace-free: kubectl apply -n NAMESPACE chooses it"


def test_the_validator_catches_a_misspelt_field():
    import kubernetes_validate
    from kubernetes_validate.utils import ValidationError

    (dep,) = kind("Deployment")
    bad = json.loads(json.dumps(dep))
    bad["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {"httpGet": {"path": HEALTH, "port": 8501}}
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSIONS[-1], strict=True)


def _port_number(port, c: dict) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in c["ports"] if p["name"] == port)


def test_deployment_probes_security_and_secrets():
    (dep,) = kind("Deployment")
    assert dep["spec"]["replicas"] >= 2
    pod = dep["spec"]["template"]["spec"]
    c = container()
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        get = c[probe]["httpGet"]
        assert get["path"] == HEALTH and _port_number(get["port"], c) == 8501, probe
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert pod["automountServiceAccountToken"] is False
    res = c["resources"]
    assert {"cpu", "memory"} <= set(res["requests"]) and "memory" in res["limits"]
    # secrets.toml from a Secret, by reference, read-only, at the path Streamlit reads
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    (sec,) = [m for m in mounts.values() if m["mountPath"] == "/app/.streamlit/secrets.toml"]
    assert sec["subPath"] == "secrets.toml" and sec["readOnly"] is True
    assert volumes[sec["name"]]["secret"]["secretName"]
    # writable places are memory (uploads are spooled to $TMPDIR while parsed; Chromium's profile), never the disk
    for path in ("/tmp", "/home/app"):
        (m,) = [m for m in mounts.values() if m["mountPath"] == path]
        assert volumes[m["name"]]["emptyDir"]["medium"] == "Memory", path
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    assert env.get("MISC_DASH_CACHE") == "off"


def test_no_secret_values_in_the_manifests():
    text = MANIFESTS.read_text(encoding="utf-8")
    for d in manifests():
        assert d["kind"] != "Secret" or not (d.get("data") or d.get("stringData")), "Secret values inline"
    for word in ("client_secret", "cookie_secret", "BEGIN PRIVATE KEY", "BEGIN CERTIFICATE"):
        assert not re.search(rf"^\s*{re.escape(word)}\s*[:=]", text, re.M), word
    token = r"(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])[A-Za-z0-9+/_-]{32,}={0,2}"
    assert not re.search(token, text), "a long random-looking value (a key, a token, base64 data)"


def test_service_and_ingress_keep_a_session_on_one_replica():
    (svc,) = kind("Service")
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["sessionAffinity"] == "ClientIP"
    ingresses = {i["metadata"]["name"]: i for i in kind("Ingress")}
    main = ingresses["misc-dash"]
    a = main["metadata"]["annotations"]
    p = "nginx.ingress.kubernetes.io/"
    assert a[p + "affinity"] == "cookie" and a[p + "session-cookie-name"] and int(a[p + "session-cookie-max-age"]) > 0
    assert int(a[p + "proxy-read-timeout"]) >= 3600 and int(a[p + "proxy-send-timeout"]) >= 3600
    assert a[p + "proxy-body-size"] == f"{max_upload_mb() + 1}m", "the Ingress must accept what the app accepts"
    assert a[p + "proxy-request-buffering"] == "off"
    snippet = a[p + "configuration-snippet"]
    assert "frame-ancestors 'self'" in snippet and "X-Frame-Options: SAMEORIGIN" in snippet
    assert main["spec"]["tls"][0]["secretName"]
    (rule,) = main["spec"]["rules"]
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == svc["metadata"]["name"]


def test_metrics_endpoint_is_refused_at_the_ingress():
    ingresses = kind("Ingress")
    main = next(i for i in ingresses if i["metadata"]["name"] == "misc-dash")
    host = main["spec"]["rules"][0]["host"]
    blocked = [
        i
        for i in ingresses
        if any(p["path"] == "/_stcore/metrics" for r in i["spec"]["rules"] for p in r["http"]["paths"])
    ]
    (b,) = blocked
    assert b is not main
    assert set(b["metadata"]["annotations"]["nginx.ingress.kubernetes.io/denylist-source-range"].split(",")) == {
        "0.0.0.0/0",
        "::/0",
    }
    assert [r["host"] for r in b["spec"]["rules"]] == [host]
    paths = {p["path"]: p["pathType"] for r in b["spec"]["rules"] for p in r["http"]["paths"]}
    assert paths["/_stcore/metrics"] == "Prefix"
    assert b["spec"].get("ingressClassName") == main["spec"].get("ingressClassName")
    # and only the ingress controller reaches the pods
    (np,) = kind("NetworkPolicy")
    (rule,) = np["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == [8501] and rule["from"]


def test_deploy_doc_has_its_sections():
    text = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    heads = re.findall(r"^#+\s+(.+)$", text, re.M)
    for h in (
        "Local",
        "One server for a department",
        "Replicas behind nginx",
        "Login",
        "Kubernetes",
        "What lives in memory",
        "What is never written to disk",
        "How to rotate the cookie secret",
        "Metrics endpoint",
    ):
        assert any(x.startswith(h) for x in heads), h
    assert "deploy/replicas.sh N PORT" in text and "deploy/nginx.conf" in text
