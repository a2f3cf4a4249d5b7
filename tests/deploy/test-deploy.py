#!/usr/bin/python3
"""The deployment files (deploy/) checked without a container engine or a
cluster: every YAML file parses; the Compose file passes `docker-compose
config` and wires two gateways to PostgreSQL, Redis, Prometheus and Grafana;
the container image builds with the README's commands, runs as a non-root
user with a health check on /readyz, and installs every package its binaries
load; the Kubernetes manifests carry probes, a grace period longer than the
drain, a PodDisruptionBudget and the network settings; and every gateway
configuration in them (file plus environment) passes `voxgate check-config`
without a warning, so each key exists in the schema. Prints TAP.

Environment (set by meson): VOXGATE_SOURCE_DIR, VOXGATE_BUILD_DIR, VOXGATE_BIN.
"""
import glob
import ipaddress
import json
import os
import socket
import time
import urllib.request
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

import yaml

SRC = os.environ.get("VOXGATE_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("VOXGATE_BUILD_DIR", os.path.join(SRC, "build"))
VOXGATE = os.environ.get("VOXGATE_BIN", os.path.join(BUILD, "voxgate"))
DEPLOY = os.path.join(SRC, "deploy")
# What the Compose file requires from its caller (${VAR:?...}).
COMPOSE_ENV = {"VOXGATE_AUTH_API_SECRET": "compose-test-secret-0123456789abcdef",
               "POSTGRES_PASSWORD": "compose-test-password", "VOXGATE_PUBLIC_IP": "198.51.100.20"}

_n = 0
_failed = 0


def test(name):
    def run(fn):
        global _n, _failed
        _n += 1
        try:
            fn()
            print(f"ok {_n} - {name}")
        except Exception:  # a failed check, reported and counted
            _failed += 1
            print(f"not ok {_n} - {name}")
            for line in traceback.format_exc().splitlines():
                print(f"# {line}")
        sys.stdout.flush()
        return fn
    return run


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def read(*parts):
    with open(os.path.join(SRC, *parts), encoding="utf-8") as f:
        return f.read()


def load_yaml(*parts):
    return [d for d in yaml.safe_load_all(read(*parts)) if d is not None]


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_config(config_text, env, config_name="voxgate.ini"):
    """Runs `voxgate check-config` on a configuration text with an
    environment of VOXGATE_* variables only; returns (status, stdout, stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, config_name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(config_text)
        clean = {k: v for k, v in os.environ.items() if not k.startswith("VOXGATE_") and k != "OPENAI_API_KEY"}
        clean.update(env)
        p = subprocess.run([VOXGATE, "check-config", "--config", path], env=clean,
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr


def assert_config_clean(config_text, env, what):
    status, out, err = check_config(config_text, env)
    check(status == 0, f"{what}: check-config exited {status}: {err.strip()}")
    check("warning" not in err, f"{what}: check-config warns: {err.strip()}")
    return out


def effective(dump, section, key):
    """A key's effective value in check-config's output."""
    current = None
    for line in dump.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"^(\w+) = (.*)$", line)
        if m and current == section and m.group(1) == key:
            return m.group(2)
    raise AssertionError(f"[{section}] {key} not in check-config's output")


def drain_grace_seconds():
    """The gateway's drain on SIGTERM, in seconds: the configured wait for the
    participants ([node] drain_timeout in the ConfigMap's config), then the
    grace for requests in flight (SHUTDOWN_GRACE_US in gateway/main.c)."""
    m = re.search(r"#define SHUTDOWN_GRACE_US \((\d+) \* G_USEC_PER_SEC\)", read("gateway", "main.c"))
    check(m, "SHUTDOWN_GRACE_US not found in gateway/main.c: update this test with the drain's new home")
    ini = k8s()["ConfigMap"][0]["data"]["voxgate.ini"]
    d = re.search(r"^\[node\][^\[]*?^drain_timeout = (\d+)$", ini, re.M | re.S)
    check(d, "[node] drain_timeout not set in the ConfigMap: SIGTERM would not wait for learners")
    return int(m.group(1)) + int(d.group(1))


def dockerfile_stages():
    """[(FROM line, [instructions])] with continuation lines joined."""
    stages = []
    logical = ""
    for raw in read("deploy", "Dockerfile").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        logical += line[:-1].strip() + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        if logical.upper().startswith("FROM "):
            stages.append((logical, []))
        else:
            stages[-1][1].append(logical)
        logical = ""
    return stages


def readme_build_commands():
    m = re.search(r"^### Building without make\n.*?```sh\n(.*?)```", read("README.md"), re.S | re.M)
    check(m, "README.md has no '### Building without make' section with a sh block")
    return [re.sub(r"\s+#.*$", "", l).strip() for l in m.group(1).splitlines() if l.strip() and not l.startswith("#")]


# ---- every file ----

@test("every YAML file in deploy/ parses")
def _():
    files = sorted(glob.glob(os.path.join(DEPLOY, "**", "*.y*ml"), recursive=True))
    check(len(files) >= 10, f"only {len(files)} YAML files")
    for f in files:
        with open(f, encoding="utf-8") as fh:
            docs = [d for d in yaml.safe_load_all(fh) if d is not None]
        check(docs, f"{f} is empty")


# ---- the container image ----

@test("the image's build stage runs the README's commands, which are the Makefile's")
def _():
    commands = readme_build_commands()
    stages = dockerfile_stages()
    check(len(stages) == 2, f"{len(stages)} stages")
    check(re.match(r"FROM debian:(12|bookworm)\S* AS build$", stages[0][0]), stages[0][0])
    runs = [i[4:].strip() for i in stages[0][1] if i.startswith("RUN ")]
    check(runs == commands, f"Dockerfile build RUN lines {runs} != README {commands}")
    make = read("Makefile").replace("$(BUILD)", "build").replace("$(MESON_OPTS)", "")
    for c in commands[:3]:
        check(re.search(r"^\t@?" + re.escape(c) + r"\s*$", make, re.M), f"'{c}' is not a Makefile recipe")


@test("the image runs as a non-root user, checks /readyz and exposes HTTP and the ICE range")
def _():
    stage = dockerfile_stages()[1]
    check(re.match(r"FROM debian:(12|bookworm)\S*$", stage[0]), stage[0])
    users = [i.split()[1] for i in stage[1] if i.startswith("USER ")]
    check(users and users[-1] not in ("root", "0"), f"USER {users}")
    check(re.search(rf"useradd .*--uid (\d+) .*{users[-1]}", " ".join(stage[1])), "the user is created")
    health = [i for i in stage[1] if i.startswith("HEALTHCHECK ")]
    check(len(health) == 1 and "http://127.0.0.1:8080/readyz" in health[0], f"HEALTHCHECK {health}")
    exposed = " ".join(i[7:] for i in stage[1] if i.startswith("EXPOSE "))
    check("8080/tcp" in exposed.split(), f"EXPOSE {exposed}")
    dump = assert_config_clean(read("deploy", "container", "voxgate.ini"),
                               {"VOXGATE_AUTH_API_KEY": "k", "VOXGATE_AUTH_API_SECRET": "s" * 32},
                               "deploy/container/voxgate.ini")
    low, high = effective(dump, "webrtc", "ice_port_min"), effective(dump, "webrtc", "ice_port_max")
    check(f"{low}-{high}/udp" in exposed.split(), f"EXPOSE {exposed} lacks the ICE range {low}-{high}/udp")
    check(effective(dump, "server", "port") == "8080", "the image's port")
    check(effective(dump, "server", "listen") == "0.0.0.0", "the image listens beyond loopback")
    check("COPY deploy/container/voxgate.ini /etc/voxgate/voxgate.ini" in stage[1], "config installed")
    check(any(i.startswith("CMD ") and "/etc/voxgate/voxgate.ini" in i for i in stage[1]), "CMD uses it")


@test("the image's configuration refuses the development credentials beyond loopback")
def _():
    status, _, err = check_config(read("deploy", "container", "voxgate.ini"), {})
    check(status == 2 and "development credentials" in err, f"{status} {err}")


@test("the runtime packages provide every library the binary and the plugin load")
def _():
    script = read("tools", "install-deps.sh")
    m = re.search(r"^runtime_pkgs=\((.*?)\)", script, re.S | re.M)
    check(m, "no runtime_pkgs in tools/install-deps.sh")
    runtime = m.group(1).split()
    check(any("install-deps.sh runtime" in i for i in dockerfile_stages()[1][1]), "the image uses the runtime profile")
    closure = set(runtime)
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                          "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *runtime],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    for line in out.splitlines():
        mm = re.match(r"^\s*(?:\|)?(?:Pre)?Depends: <?([^\s>]+)>?", line)
        if mm:
            closure.add(mm.group(1).split(":")[0])
        elif line and not line.startswith(" "):
            closure.add(line.strip().split(":")[0])
    binaries = [VOXGATE, os.path.join(BUILD, "plugins", "libgstvoxgate.so")]
    libs = set()
    for b in binaries:
        libs.update(re.findall(r"=> (/\S+)", subprocess.run(["ldd", b], capture_output=True, text=True).stdout))
    check(len(libs) > 10, f"ldd found {len(libs)} libraries")

    def variants(lib):
        real = os.path.realpath(lib)
        return {lib, real, lib.replace("/usr/lib", "/lib", 1), real.replace("/usr/lib", "/lib", 1)}
    # One dpkg -S for all (a path no package owns is an error line, not an abort).
    queried = sorted(set().union(*(variants(lib) for lib in libs)))
    owners = {}
    for line in subprocess.run(["dpkg", "-S", *queried], capture_output=True, text=True).stdout.splitlines():
        pkg, _, path = line.partition(": ")
        for one in pkg.split(", "):
            owners.setdefault(path.strip(), one.split(":")[0].strip())
    missing = []
    for lib in sorted(libs):
        owner = next((owners[v] for v in variants(lib) if v in owners), None)
        if owner is None:
            missing.append(f"{lib} (no package)")
        elif owner not in closure:
            missing.append(f"{lib} ({owner})")
    # The GStreamer elements a room loads by name (webrtcbin and what it
    # builds inside, the codec and mixing chain), found through the plugin
    # registry: ldd does not see them.
    factories = ["webrtcbin", "nicesrc", "nicesink", "dtlsdec", "dtlsenc", "srtpdec", "srtpenc", "sctpenc",
                 "sctpdec", "rtpbin", "rtpopusdepay", "rtpopuspay", "opusdec", "opusenc", "audiomixer",
                 "audioconvert", "audioresample", "rtpjitterbuffer", "tee", "queue", "capsfilter"]
    for factory in factories:
        p = subprocess.run(["gst-inspect-1.0", factory], capture_output=True, text=True, timeout=60)
        m = re.search(r"^\s*Filename\s+(\S+)", p.stdout, re.M)
        if not m:
            if p.returncode == 0 and re.search(r"^\s*Source module\s+gstreamer\s*$", p.stdout, re.M):
                continue  # a core element, in libgstreamer1.0-0
            missing.append(f"element {factory} not found")
            continue
        owner = None
        for v in variants(m.group(1)):
            q = subprocess.run(["dpkg", "-S", v], capture_output=True, text=True)
            if q.returncode == 0:
                owner = q.stdout.split(":")[0].strip()
                break
        if owner not in closure:
            missing.append(f"element {factory} ({owner or m.group(1)})")
    check(not missing, f"not installed by the runtime profile: {missing}")


@test("the image's layout works: meson install, its ENV and CMD serve /readyz and build an echo room")
def _():
    stage = dockerfile_stages()[1][1]
    image_env = {}
    for i in stage:
        if i.startswith("ENV "):
            image_env.update(dict(kv.split("=", 1) for kv in i[4:].split()))
    cmd = next(i for i in stage if i.startswith("CMD "))
    argv = yaml.safe_load(cmd[4:])  # a JSON array
    health = next(i for i in stage if i.startswith("HEALTHCHECK "))
    probe = health.split(" CMD ", 1)[1]
    with tempfile.TemporaryDirectory() as root:
        subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", root, "--quiet"],
                       check=True, capture_output=True, timeout=120)
        # The image's RUN ln -s and COPY lines, under root.
        plugin = glob.glob(os.path.join(root, "usr/local/lib/*/gstreamer-1.0/libgstvoxgate.so"))
        check(len(plugin) == 1, f"installed plugin: {plugin}")
        os.symlink(os.path.dirname(plugin[0]), os.path.join(root, "usr/local/lib/voxgate-gstreamer"))
        shutil.copytree(os.path.join(SRC, "pipelines"), os.path.join(root, "usr/local/share/voxgate/pipelines"))
        os.makedirs(os.path.join(root, "etc/voxgate"))
        shutil.copy(os.path.join(DEPLOY, "container", "voxgate.ini"), os.path.join(root, "etc/voxgate/voxgate.ini"))
        data = os.path.join(root, "var/lib/voxgate")
        os.makedirs(data)
        port = free_tcp_port()

        def rooted(v):
            return re.sub(r"(^|=)/(usr/local|etc/voxgate|var/lib/voxgate|tmp)", lambda m: m.group(1) + root + "/" + m.group(2), v)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VOXGATE_", "GST_")) and k != "OPENAI_API_KEY"}
        env.update({k: rooted(v) for k, v in image_env.items()})
        env.update({"VOXGATE_AUTH_API_KEY": "image-key", "VOXGATE_AUTH_API_SECRET": "i" * 32,
                    "VOXGATE_SERVER_PORT": str(port), "VOXGATE_SERVER_LISTEN": "127.0.0.1"})
        check(os.access(os.path.join(root, "usr/local/bin/voxgate"), os.X_OK), "installed binary")
        proc = subprocess.Popen([os.path.join(root, "usr/local/bin/voxgate"), *[rooted(a) for a in argv]], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=data)
        try:
            probe_cmd = probe.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
            ok = False
            for _ in range(100):
                if subprocess.run(["sh", "-c", probe_cmd], capture_output=True).returncode == 0:
                    ok = True
                    break
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
            check(ok, f"the HEALTHCHECK never passed: {proc.stderr.read() if proc.poll() is not None else ''}")
            token = subprocess.run([os.path.join(root, "usr/local/bin/voxgate"), "token", "--admin"], env=env,
                                   capture_output=True, text=True, check=True).stdout.strip()
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/rooms", method="POST",
                                         data=json.dumps({"name": "image-room"}).encode(),
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=20) as r:
                room = json.load(r)
            check(r.status in (200, 201) and room.get("name") == "image-room", room)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        check(proc.returncode == 0, f"SIGTERM exit {proc.returncode}")


# ---- Compose ----

def compose_config(env):
    p = subprocess.run(["docker-compose", "-f", os.path.join(DEPLOY, "compose.yaml"), "config"],
                       env={**{k: v for k, v in os.environ.items() if not k.startswith("VOXGATE_")}, **env},
                       capture_output=True, text=True, timeout=60, cwd=SRC)
    return p.returncode, p.stdout, p.stderr


compose = {}


@test("docker-compose config accepts the Compose file, and refuses it without the secrets")
def _():
    status, out, err = compose_config(COMPOSE_ENV)
    check(status == 0, f"docker-compose config: {status} {err}")
    compose.update(yaml.safe_load(out))
    status, _, err = compose_config({k: v for k, v in COMPOSE_ENV.items() if k != "VOXGATE_AUTH_API_SECRET"})
    check(status != 0 and "VOXGATE_AUTH_API_SECRET" in err, f"without the secret: {status} {err}")


def published_udp(service):
    ports = set()
    for p in service.get("ports", []):
        if isinstance(p, dict) and p.get("protocol") == "udp":
            check(int(p["published"]) == int(p["target"]), f"UDP {p} is not published 1:1")
            ports.add(int(p["target"]))
    return ports


@test("Compose: two gateways on PostgreSQL and Redis, distinct ids, URLs and ICE ranges, published 1:1")
def _():
    services = compose["services"]
    check({"gateway-a", "gateway-b", "postgres", "redis", "prometheus", "grafana"} <= set(services), set(services))
    ids, urls, ranges = set(), set(), []
    for name in ("gateway-a", "gateway-b"):
        env = services[name]["environment"]
        check(env["VOXGATE_CACHE_URL"].startswith("redis://redis:"), env["VOXGATE_CACHE_URL"])
        check(re.match(r"postgresql://voxgate:[^@]+@postgres:5432/voxgate$", env["VOXGATE_STORE_URL"]), "store")
        check(env["VOXGATE_STORE_URL"].split(":")[2].split("@")[0] == COMPOSE_ENV["POSTGRES_PASSWORD"], "password")
        ipaddress.ip_address(env["VOXGATE_WEBRTC_NAT_1_1_ADDRESS"])
        check(env["VOXGATE_WEBRTC_NAT_1_1_ADDRESS"] == COMPOSE_ENV["VOXGATE_PUBLIC_IP"], "NAT address")
        ids.add(env["VOXGATE_NODE_ID"])
        urls.add(env["VOXGATE_SERVER_PUBLIC_URL"])
        low, high = int(env["VOXGATE_WEBRTC_ICE_PORT_MIN"]), int(env["VOXGATE_WEBRTC_ICE_PORT_MAX"])
        check(published_udp(services[name]) == set(range(low, high + 1)), f"{name}: UDP ports != ICE range")
        ranges.append(set(range(low, high + 1)))
        http = [p for p in services[name]["ports"] if p.get("protocol", "tcp") == "tcp"]
        check(len(http) == 1 and int(http[0]["target"]) == 8080, f"{name} HTTP {http}")
        check(str(http[0]["published"]) in env["VOXGATE_SERVER_PUBLIC_URL"], "public URL names the published port")
        depends = services[name]["depends_on"]
        check(depends["postgres"]["condition"] == "service_healthy" and depends["redis"]["condition"] == "service_healthy",
              "the gateways wait for healthy PostgreSQL and Redis")
    check(len(ids) == 2 and len(urls) == 2, f"ids {ids} urls {urls}")
    check(not (ranges[0] & ranges[1]), "the two nodes' ICE ranges overlap on one host")
    check(services["postgres"]["environment"]["POSTGRES_PASSWORD"] == COMPOSE_ENV["POSTGRES_PASSWORD"], "pg password")


@test("Compose: each gateway's configuration (image file + environment) passes check-config")
def _():
    stage = dockerfile_stages()[1][1]
    image_env = {}
    for i in stage:
        if i.startswith("ENV "):
            image_env.update(dict(kv.split("=", 1) for kv in i[4:].split()))
    for name in ("gateway-a", "gateway-b"):
        env = {k: str(v) for k, v in compose["services"][name]["environment"].items()}
        env.update({k: v for k, v in image_env.items() if k.startswith("VOXGATE_")})
        env["VOXGATE_AGENT_PIPELINES_DIR"] = os.path.join(SRC, "pipelines")  # the image's copy
        dump = assert_config_clean(read("deploy", "container", "voxgate.ini"), env, name)
        check(effective(dump, "node", "id") == name, f"{name}: node id")
        check(effective(dump, "webrtc", "keep_private_host") == "false", "only the host's address is advertised")
        check(effective(dump, "webrtc", "ice_port_min") == env["VOXGATE_WEBRTC_ICE_PORT_MIN"], "ICE range from env")


@test("Compose: Prometheus scrapes both gateways; Grafana has the datasource and a dashboards folder")
def _():
    services = compose["services"]
    prom = load_yaml("deploy", "prometheus", "prometheus.yml")[0]
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    targets = {t for sc in jobs["voxgate"]["static_configs"] for t in sc["targets"]}
    check(targets == {"gateway-a:8080", "gateway-b:8080"}, targets)
    check(jobs["voxgate"].get("metrics_path", "/metrics") == "/metrics", "metrics path")
    check("/etc/prometheus/rules/*.yml" in prom["rule_files"], "rule files")
    check(os.path.isdir(os.path.join(DEPLOY, "prometheus", "rules")), "deploy/prometheus/rules exists")
    mounts = {v.split(":")[1]: v.split(":")[0] for v in
              [f"{m['source']}:{m['target']}" if isinstance(m, dict) else m for m in services["prometheus"]["volumes"]]}
    check(os.path.realpath(mounts["/etc/prometheus"]) == os.path.realpath(os.path.join(DEPLOY, "prometheus")), mounts)
    promtool = shutil.which("promtool")
    check(promtool, "promtool (Debian's prometheus package) is missing")
    p = subprocess.run([promtool, "check", "config", os.path.join(DEPLOY, "prometheus", "prometheus.yml")],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, p.stdout + p.stderr)

    ds = load_yaml("deploy", "grafana", "provisioning", "datasources", "prometheus.yml")[0]["datasources"]
    check(ds[0]["type"] == "prometheus" and ds[0]["url"] == "http://prometheus:9090", ds)
    providers = load_yaml("deploy", "grafana", "provisioning", "dashboards", "voxgate.yml")[0]["providers"]
    path = providers[0]["options"]["path"]
    gmounts = {}
    for m in services["grafana"]["volumes"]:
        source, target = (m["source"], m["target"]) if isinstance(m, dict) else m.split(":")[:2]
        gmounts[target] = source
    check(os.path.realpath(gmounts[path]) == os.path.realpath(os.path.join(DEPLOY, "grafana")),
          f"the dashboards folder {path} is not deploy/grafana: {gmounts}")
    check(os.path.realpath(gmounts["/etc/grafana/provisioning"])
          == os.path.realpath(os.path.join(DEPLOY, "grafana", "provisioning")), "provisioning mount")


# ---- Kubernetes ----

def k8s():
    objects = {}
    for f in load_yaml("deploy", "kubernetes", "kustomization.yaml")[0]["resources"]:
        for d in load_yaml("deploy", "kubernetes", f):
            objects.setdefault(d["kind"], []).append(d)
    return objects


@test("Kubernetes: every manifest listed in the kustomization, each object well formed")
def _():
    listed = set(load_yaml("deploy", "kubernetes", "kustomization.yaml")[0]["resources"])
    present = {os.path.basename(f) for f in glob.glob(os.path.join(DEPLOY, "kubernetes", "*.yaml"))} - {"kustomization.yaml"}
    check(listed == present, f"listed {listed} present {present}")
    for kind, docs in k8s().items():
        for d in docs:
            check(d.get("apiVersion") and d.get("metadata", {}).get("name"), f"{kind} without apiVersion or name")


@test("Kubernetes: probes on /readyz and /healthz, grace longer than preStop plus the drain, non-root")
def _():
    objects = k8s()
    dep = objects["Deployment"][0]
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    ports = {p["name"]: p for p in c["ports"]}
    check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness on /readyz")
    check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness on /healthz")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        check(c[probe]["httpGet"]["port"] in ports, f"{probe} port")
    routes = read("api", "handlers", "health.c")
    check('"/readyz"' in routes and '"/healthz"' in routes, "the probed paths exist")
    pre = c["lifecycle"]["preStop"]["exec"]["command"]
    pre_s = int(pre[1]) if pre[0] == "sleep" else 0
    grace = pod["terminationGracePeriodSeconds"]
    drain = drain_grace_seconds()
    check(grace > pre_s + drain + 10, f"terminationGracePeriodSeconds {grace} <= preStop {pre_s} + drain {drain} + 10")
    sec = pod["securityContext"]
    check(sec["runAsNonRoot"] is True and sec["runAsUser"] != 0, "non-root")
    uid = re.search(r"--uid (\d+)", read("deploy", "Dockerfile")).group(1)
    check(str(sec["runAsUser"]) == uid, f"runAsUser {sec['runAsUser']} is not the image's uid {uid}")
    check(c["securityContext"]["allowPrivilegeEscalation"] is False, "no privilege escalation")
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    check("/tmp" in mounts and "/var/lib/voxgate" in mounts, "writable data and registry dirs on a read-only root")


@test("Kubernetes: network settings (hostNetwork, ICE on the node's address from the downward API)")
def _():
    pod = k8s()["Deployment"][0]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env = {e["name"]: e for e in c["env"]}
    check(pod.get("hostNetwork") is True or any(p.get("protocol") == "UDP" for p in c["ports"]), "no UDP path")
    check(pod.get("dnsPolicy") == "ClusterFirstWithHostNet", "cluster DNS with hostNetwork")
    check(env["NODE_IP"]["valueFrom"]["fieldRef"]["fieldPath"] in ("status.hostIP", "status.podIP"), "node address")
    check(env["VOXGATE_WEBRTC_ICE_ADDRESSES"]["value"] == "$(NODE_IP)", "ICE bound to the node's address")
    check(env["VOXGATE_NODE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", "node id per pod")
    anti = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    check(anti["topologyKey"] == "kubernetes.io/hostname", "one gateway per node (shared host ports)")
    check(k8s()["Deployment"][0]["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0, "no surge onto busy nodes")


@test("Kubernetes: Service, PodDisruptionBudget, Secret and external PostgreSQL/Redis fit the Deployment")
def _():
    objects = k8s()
    dep = objects["Deployment"][0]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    check(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(), "the Deployment selects its pods")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"] for p in c["ports"]}
    services = {s["metadata"]["name"]: s for s in objects["Service"]}
    svc = services["voxgate"]
    check(svc["spec"]["selector"].items() <= labels.items(), "the Service selects the pods")
    check(all(p["targetPort"] in ports for p in svc["spec"]["ports"]), "the Service's target port")
    pdb = objects["PodDisruptionBudget"][0]
    check(pdb["apiVersion"] == "policy/v1", pdb["apiVersion"])
    check(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items(), "the PDB selects the pods")
    check(pdb["spec"].get("maxUnavailable") == 1 or pdb["spec"].get("minAvailable", 0) >= 1, "PDB keeps one")
    check(dep["spec"]["replicas"] >= 2, "a PDB over one replica would block every drain")
    secret = objects["Secret"][0]["stringData"]
    check({"VOXGATE_AUTH_API_KEY", "VOXGATE_AUTH_API_SECRET", "OPENAI_API_KEY"} <= set(secret), set(secret))
    check(c["envFrom"][0]["secretRef"]["name"] == objects["Secret"][0]["metadata"]["name"], "the Secret is used")
    check(services["voxgate-postgres"]["spec"]["type"] == "ExternalName", "PostgreSQL is external")
    check(services["voxgate-redis"]["spec"]["type"] == "ExternalName", "Redis is external")
    check("@voxgate-postgres:5432/" in secret["VOXGATE_STORE_URL"], "the store URL names the external service")
    check(secret["VOXGATE_CACHE_URL"].startswith("redis://voxgate-redis:6379"), "the cache URL names it")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    check(c["args"][c["args"].index("--config") + 1] == mounts["config"] + "/voxgate.ini", "config mounted where read")


@test("Kubernetes: the ConfigMap's file with the pod's environment passes check-config")
def _():
    objects = k8s()
    ini = objects["ConfigMap"][0]["data"]["voxgate.ini"]
    c = objects["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]
    downward = {"status.hostIP": "192.0.2.10", "status.podIP": "192.0.2.10", "metadata.name": "voxgate-7d9f-abcde"}
    env = {}
    for e in c["env"]:
        if "valueFrom" in e:
            env[e["name"]] = downward[e["valueFrom"]["fieldRef"]["fieldPath"]]
        else:
            env[e["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], e["value"])
    env.update(objects["Secret"][0]["stringData"])
    env = {k: v for k, v in env.items() if k.startswith("VOXGATE_")}
    dump = assert_config_clean(ini, env, "the ConfigMap")
    check(effective(dump, "webrtc", "ice_addresses") == "192.0.2.10", "ICE addresses")
    check(effective(dump, "node", "id") == "voxgate-7d9f-abcde", "node id")
    check(int(effective(dump, "webrtc", "ice_port_min")) <= int(effective(dump, "webrtc", "ice_port_max")), "range")


@test("the systemd example configuration passes check-config")
def _():
    assert_config_clean(read("deploy", "voxgate.example.ini"), {"VOXGATE_AUTH_API_SECRET": "s" * 32},
                        "deploy/voxgate.example.ini")


@test("check-config's warning catches a key the schema does not have (the checks above can fail)")
def _():
    status, _, err = check_config("[webrtc]\nnat_address = 203.0.113.7\n", {"VOXGATE_WEBRTC_ICE_RANGE": "1-2"})
    check(status == 0 and "[webrtc] nat_address" in err and "[webrtc] ice_range" in err, err)
    status, _, err = check_config("[webrtc]\nice_port_min = 60000\nice_port_max = 50000\n", {})
    check(status == 2 and "ice_port_min (60000) is above ice_port_max (50000)" in err, err)
    status, _, err = check_config("[webrtc]\nnat_1_1_address = public.example.org\n", {})
    check(status == 2 and "[webrtc] nat_1_1_address" in err, err)


print(f"1..{_n}")
sys.exit(1 if _failed else 0)
