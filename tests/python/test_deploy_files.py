"""The deployment files (deploy/) checked without the tools that would run them here: the
Kubernetes manifests against the Kubernetes schemas (kubectl is not available), HAProxy's
config with `haproxy -c`, the compose file's references, the Grafana dashboard's metric names
against a live server's /metrics, and the runtime image's packages against what the built
server loads."""

import glob
import json
import os
import re
import shutil
import subprocess
import urllib.request

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
DEPLOY = os.path.join(ROOT, "deploy")


def _yaml_documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(DEPLOY, "k8s", "*.yaml"))),
                         ids=os.path.basename)
def test_kubernetes_manifests_match_the_schemas(path):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for doc in _yaml_documents(path):
        # Strict: a misspelled field is an error, not ignored.
        kubernetes_validate.validate(doc, "1.30.0", strict=True)


def test_the_envoy_config_routes_sessions_by_their_header():
    (config_map,) = [d for d in _yaml_documents(os.path.join(DEPLOY, "k8s", "envoy.yaml"))
                     if d["kind"] == "ConfigMap"]
    envoy = yaml.safe_load(config_map["data"]["envoy.yaml"])
    clusters = {c["name"]: c for c in envoy["static_resources"]["clusters"]}
    hcm = envoy["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    session_route, other_route = hcm["typed_config"]["route_config"]["virtual_hosts"][0]["routes"]
    # Calls carrying a routing key: hashed onto the pods, never moved by health checks.
    assert session_route["match"]["headers"] == [
        {"name": "x-tensord-session", "present_match": True}]
    assert session_route["route"]["hash_policy"] == [
        {"header": {"header_name": "x-tensord-session"}}]
    sessions = clusters[session_route["route"]["cluster"]]
    assert sessions["lb_policy"] == "RING_HASH" and "health_checks" not in sessions
    # The rest: any healthy pod.
    assert "headers" not in other_route["match"]
    assert "health_checks" in clusters[other_route["route"]["cluster"]]
    statefulset = [d for d in _yaml_documents(os.path.join(DEPLOY, "k8s", "tensord.yaml"))
                   if d["kind"] == "StatefulSet"][0]
    # One endpoint per pod of the StatefulSet, by its stable name, in both clusters.
    for cluster in clusters.values():
        endpoints = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        assert [e["endpoint"]["hostname"] for e in endpoints] == [
            "tensord-%d" % i for i in range(statefulset["spec"]["replicas"])]


def test_haproxy_accepts_its_config():
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.skip("haproxy is not installed (deploy/install-deps.sh installs it)")
    env = dict(os.environ, TENSORD_FRONTEND="127.0.0.1:1", TENSORD_REPLICA_1="127.0.0.1:2",
               TENSORD_REPLICA_2="127.0.0.1:3", TENSORD_REPLICA_3="127.0.0.1:4")
    proc = subprocess.run([haproxy, "-c", "-f", os.path.join(DEPLOY, "haproxy", "tensord.cfg")],
                          env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_compose_file_refers_to_what_exists():
    compose_dir = os.path.join(DEPLOY, "compose")
    (compose,) = _yaml_documents(os.path.join(compose_dir, "compose.yaml"))
    services = compose["services"]
    replicas = sorted(s for s in services if s.startswith("tensord-"))
    assert len(replicas) == 3
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert os.path.exists(os.path.join(compose_dir, source)), source
    haproxy_env = services["haproxy"]["environment"]
    assert sorted(v.split(":")[0] for k, v in haproxy_env.items()
                  if k.startswith("TENSORD_REPLICA_")) == replicas
    (prometheus,) = _yaml_documents(os.path.join(compose_dir, "prometheus.yml"))
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert sorted(t.split(":")[0] for t in targets) == replicas


def test_the_dashboard_queries_metrics_the_server_exports(private_server, tmp_path):
    with open(os.path.join(DEPLOY, "compose", "grafana", "dashboards", "tensord.json")) as f:
        dashboard = json.load(f)
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used.update(re.findall(r"tensord_[a-z_]+", target["expr"]))
    port_file = tmp_path / "metrics_port"
    server = private_server(["--metrics_listen=127.0.0.1:0",
                             "--metrics_port_file=%s" % port_file])
    from tensord.connection import Client
    client = Client(server.address)
    client.wait_ready(20)
    client.session_id  # one RPC, so the per-method series exist  # noqa: B018
    client.close()
    url = "http://127.0.0.1:%s/metrics" % port_file.read_text().strip()
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    exported = set(re.findall(r"^# TYPE (tensord_[a-z_]+)", text, re.M))
    exported |= {name + suffix for name in exported for suffix in ("_bucket", "_sum", "_count")}
    assert used and used <= exported, used - exported


def _runtime_packages(dockerfile):
    """The packages the runtime stage installs (the last apt-get install of the file)."""
    with open(dockerfile) as f:
        text = f.read().replace("\\\n", " ")
    runtime = text[text.rindex("FROM "):]
    words = re.findall(r"apt-get install ([^&]*)", runtime)[-1].split()
    return {w for w in words if not w.startswith("-")}


def test_the_cpu_image_installs_every_library_the_server_loads():
    binary = os.path.join(ROOT, "build", "default", "server", "tensord")
    if not (os.path.exists(binary) and shutil.which("dpkg") and shutil.which("apt-cache")):
        pytest.skip("needs the default build and Debian's dpkg")
    listed = _runtime_packages(os.path.join(DEPLOY, "docker", "Dockerfile.cpu"))
    # What the listed packages pull in, and what every Debian image has.
    depends = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends",
                              "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
                              "--no-enhances"] + sorted(listed),
                             capture_output=True, text=True, timeout=120).stdout
    available = listed | set(re.findall(r"^(\S+)", depends, re.M))
    available |= {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30).stdout
    needed = set()
    for lib in re.findall(r"=> (/\S+)", ldd):
        if "/cuda" in lib:
            continue  # the CPU image is built without the CUDA provider
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True,
                               text=True).stdout or subprocess.run(
            ["dpkg", "-S", lib], capture_output=True, text=True).stdout
        if owner:
            needed.add(owner.split(":")[0])
    assert needed and needed <= available, needed - available
