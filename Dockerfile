# MIS-C Cohort Explorer: one Streamlit server in a container (issue 18; docs/DEPLOY.md, deploy/kubernetes.yaml).
# Streamlit's documented Docker recipe (slim Python, WORKDIR /app, requirements first, EXPOSE 8501, HEALTHCHECK on
# /_stcore/health, `streamlit run ... --server.address=0.0.0.0`), plus a non-root user.
#
# No image can be built on the development machines (no registry for base images), so every install step below is
# the one .ci/run runs on every submission: the same Debian package (chromium), `python3 -m venv .venv` and
# `.venv/bin/pip install -q -r requirements.txt`. tests/test_deploy.py checks that they stay identical.
#
#   docker build -t misc-dash .
#   docker run --rm -p 127.0.0.1:8501:8501 misc-dash          # then open http://127.0.0.1:8501
#   (with login / a small-cell policy: add -v /etc/misc-dash/secrets.toml:/app/.streamlit/secrets.toml:ro)

# Debian 12 (bookworm), as on the CI machine, so the Debian package below is the one CI installs (the plain
# python:3.11-slim tag has moved to Debian 13)
FROM python:3.11-slim-bookworm

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/app

# Chromium: kaleido 1.x drives a Chrome/Chromium to make the PNG/SVG chart exports and the PowerPoint deck's
# slides (misc_dash/exports/images.py finds Debian's /usr/bin/chromium). Without it those downloads say "not
# available" and everything else works; with it the image is ~400 MB larger. Installed as .ci/run installs it
# (recommended packages included: fonts-liberation, the fonts the charts' text is drawn with). nginx, the other
# package .ci/run installs, is for the replicas test only: the proxy runs outside the container.
# curl is not installed: the HEALTHCHECK below uses Python's urllib instead.
RUN apt-get update -q && apt-get install -y -q chromium && rm -rf /var/lib/apt/lists/*

# An unprivileged user with a home: Chromium writes its crash-report settings under ~/.config
RUN useradd --create-home --home-dir /home/app --uid 10001 --user-group --shell /usr/sbin/nologin app

WORKDIR /app

# Requirements first, so a code change does not reinstall them (layer cache). The same command as .ci/run; it
# includes the test packages of requirements.txt (pytest, playwright, ...), which the server never imports.
COPY requirements.txt ./
RUN python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt

# The app: code, the shipped synthetic data, static files and the server configuration. Never secrets.toml (the
# deployment mounts it), tests, a venv or artifacts; .dockerignore lets only these paths into the build context.
COPY .streamlit/config.toml .streamlit/config.toml
COPY app.py ./
COPY pages/ pages/
COPY misc_dash/ misc_dash/
COPY data/ data/
COPY static/ static/
# (the Data page shows the data dictionary)
COPY docs/DATA_DICTIONARY.md docs/DATA_DICTIONARY.md

# plotly.js for the in-place charts, copied into static/ now by the app's own function (it would otherwise copy
# it at first use, which a read-only /app cannot take: the charts would fall back to st.plotly_chart)
RUN .venv/bin/python -c "from misc_dash.ui.plot import plotly_js_url; assert plotly_js_url()"

# /app stays owned by root: the server cannot change its own code or data
USER 10001:10001

EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/app/.venv/bin/python", "-c", \
         "import urllib.request as u; u.urlopen('http://localhost:8501/_stcore/health', timeout=4)"]

# 0.0.0.0 only here, inside the container's own network namespace: .streamlit/config.toml pins 127.0.0.1 for
# every other run. Publish the port on the host's loopback (-p 127.0.0.1:8501:8501) or put the proxy in front.
ENTRYPOINT ["/app/.venv/bin/streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
