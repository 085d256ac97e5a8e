"""deploy/kuberay/rayservice.yaml: serveConfigV2 is serve_config.yaml, the manifest has what KubeRay's RayService
CRD requires, and it carries what this application needs on Kubernetes (secrets, shared store, GPU, readiness)."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from scripts.sync_kuberay import MANIFEST, SERVE_CONFIG, with_serve_config
from softskills.auth.hashing import PEPPER_ENV
from softskills.db.engine import DATABASE_URL_ENV
from softskills.db.files import DATA_DIR_ENV
from softskills.storage.local import SIGNING_KEY_ENV

REPO = Path(__file__).resolve().parent.parent
SECRET_ENV = (DATABASE_URL_ENV, PEPPER_ENV, SIGNING_KEY_ENV)
FULL_CRD_ENV = "KUBERAY_CRD"

# What KubeRay requires of a RayService, restated because no PyPI or npm package ships its CRD:
# - the `required` lists and types of the CRD's v1 openAPIV3Schema, KubeRay v1.7.0,
#   ray-operator/config/crd/bases/ray.io_rayservices.yaml: spec needs rayClusterConfig; rayClusterConfig needs
#   headGroupSpec; headGroupSpec needs template; each workerGroupSpecs item needs groupName, minReplicas,
#   maxReplicas and template (replica counts are int32); a pod spec needs containers, a container needs name, a
#   port containerPort, an env item name, a secretKeyRef key, an httpGet probe port, a volumeMount name and
#   mountPath; rayStartParams maps to strings; serveConfigV2 is a string;
# - the admission checks in ray-operator/controllers/ray/utils/validation.go: the name is a DNS-1035 label of at
#   most 47 characters (MaxRayServiceNameLength), each group has at least one container, minReplicas <= maxReplicas,
#   and a group sets resources in rayStartParams or in `resources`, not both.
# KUBERAY_CRD=path/to/ray.io_rayservices.yaml (e.g. `kubectl get crd rayservices.ray.io -o yaml`) also validates
# the manifest against that whole schema (test_manifest_validates_against_the_full_crd).
_STRING = {"type": "string"}
_COUNT = {"type": "integer", "minimum": 0}
_CONTAINER = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": _STRING,
        "image": _STRING,
        "ports": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["containerPort"],
                "properties": {"containerPort": {"type": "integer"}, "name": _STRING},
            },
        },
        "env": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": _STRING,
                    "value": _STRING,
                    "valueFrom": {
                        "type": "object",
                        "properties": {
                            "secretKeyRef": {
                                "type": "object",
                                "required": ["key"],
                                "properties": {"key": _STRING, "name": _STRING},
                            }
                        },
                    },
                },
            },
        },
        "readinessProbe": {"type": "object", "properties": {"httpGet": {"type": "object", "required": ["port"]}}},
        "volumeMounts": {"type": "array", "items": {"type": "object", "required": ["mountPath", "name"]}},
    },
}
_POD_TEMPLATE = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["containers"],
            "properties": {"containers": {"type": "array", "minItems": 1, "items": _CONTAINER}},
        }
    },
}
_RAY_START_PARAMS = {"type": "object", "additionalProperties": _STRING}
RAYSERVICE_REQUIRED = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "ray.io/v1"},
        "kind": {"const": "RayService"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "maxLength": 47, "pattern": r"^[a-z]([-a-z0-9]*[a-z0-9])?$"}},
        },
        "spec": {
            "type": "object",
            "required": ["rayClusterConfig"],
            "properties": {
                "serveConfigV2": _STRING,
                "rayClusterConfig": {
                    "type": "object",
                    "required": ["headGroupSpec"],
                    "properties": {
                        "rayVersion": _STRING,
                        "enableInTreeAutoscaling": {"type": "boolean"},
                        "headGroupSpec": {
                            "type": "object",
                            "required": ["template"],
                            "properties": {"rayStartParams": _RAY_START_PARAMS, "template": _POD_TEMPLATE},
                        },
                        "workerGroupSpecs": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["groupName", "maxReplicas", "minReplicas", "template"],
                                "properties": {
                                    "groupName": _STRING,
                                    "replicas": _COUNT,
                                    "minReplicas": _COUNT,
                                    "maxReplicas": _COUNT,
                                    "rayStartParams": _RAY_START_PARAMS,
                                    "template": _POD_TEMPLATE,
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


@pytest.fixture(scope="module")
def serve_config() -> dict:
    return yaml.safe_load(SERVE_CONFIG.read_text())


def _cluster(manifest: dict) -> dict:
    return manifest["spec"]["rayClusterConfig"]


def _groups(manifest: dict) -> list[dict]:
    """The head group, then every worker group."""
    return [_cluster(manifest)["headGroupSpec"], *_cluster(manifest)["workerGroupSpecs"]]


def _ray_container(group: dict) -> dict:
    return group["template"]["spec"]["containers"][0]  # KubeRay's Ray container is the first


def test_serve_config_v2_is_serve_config_yaml(manifest, serve_config):
    assert yaml.safe_load(manifest["spec"]["serveConfigV2"]) == serve_config
    assert with_serve_config(MANIFEST.read_text(), SERVE_CONFIG.read_text()) == MANIFEST.read_text()


def test_sync_rewrites_a_drifted_serve_config(tmp_path):
    drifted = with_serve_config(MANIFEST.read_text(), "proxy_location: HeadOnly\napplications: []\n")
    assert yaml.safe_load(yaml.safe_load(drifted)["spec"]["serveConfigV2"]) == {
        "proxy_location": "HeadOnly",
        "applications": [],
    }
    assert with_serve_config(drifted, SERVE_CONFIG.read_text()) == MANIFEST.read_text()


def test_manifest_has_the_fields_the_rayservice_crd_requires(manifest):
    jsonschema.validate(manifest, RAYSERVICE_REQUIRED)
    for group in _cluster(manifest)["workerGroupSpecs"]:
        assert group["minReplicas"] <= group.get("replicas", group["minReplicas"]) <= group["maxReplicas"]
    resource_params = {"num-cpus", "num-gpus", "memory", "resources"}
    for group in _groups(manifest):
        assert not (resource_params & set(group.get("rayStartParams", {})) and group.get("resources"))


@pytest.mark.parametrize(
    "break_it, message",
    [
        (lambda m: _cluster(m)["workerGroupSpecs"][0].pop("groupName"), "'groupName' is a required property"),
        (lambda m: _cluster(m)["workerGroupSpecs"][0].update(minReplicas="1"), "'1' is not of type 'integer'"),
        (lambda m: _cluster(m)["headGroupSpec"]["rayStartParams"].update({"num-cpus": 0}), "0 is not of type 'string'"),
        (lambda m: _cluster(m).pop("headGroupSpec"), "'headGroupSpec' is a required property"),
        (lambda m: _cluster(m)["headGroupSpec"]["template"]["spec"].update(containers=[]), "should be non-empty"),
        (lambda m: m["metadata"].update(name="SoftSkills"), "does not match"),
    ],
)
def test_the_required_fields_check_catches_a_broken_manifest(manifest, break_it, message):
    broken = copy.deepcopy(manifest)
    break_it(broken)
    with pytest.raises(jsonschema.ValidationError, match=re.escape(message)):
        jsonschema.validate(broken, RAYSERVICE_REQUIRED)


@pytest.mark.skipif(not os.environ.get(FULL_CRD_ENV), reason=f"{FULL_CRD_ENV} names no KubeRay CRD file")
def test_manifest_validates_against_the_full_crd(manifest):
    crd = yaml.safe_load(Path(os.environ[FULL_CRD_ENV]).read_text())
    (v1,) = [version for version in crd["spec"]["versions"] if version["name"] == "v1"]
    jsonschema.Draft7Validator(v1["schema"]["openAPIV3Schema"]).validate(manifest)


def test_ray_version_is_the_pinned_one(manifest):
    pinned = re.search(r'"ray\[serve\]==([\d.]+)"', (REPO / "pyproject.toml").read_text()).group(1)
    assert _cluster(manifest)["rayVersion"] == pinned


def test_secrets_and_the_shared_store_reach_every_pod(manifest):
    """Every pod gets the key store URL, the pepper and the video-URL key from Kubernetes Secrets (never a literal
    value), and SOFTSKILLS_DATA_DIR on the same shared volume, so every ingress replica sees every stored video."""
    claims = set()
    for group in _groups(manifest):
        pod = group["template"]["spec"]
        env = {item["name"]: item for item in _ray_container(group)["env"]}
        for name in SECRET_ENV:
            reference = env[name]["valueFrom"]["secretKeyRef"]
            assert reference["name"] and reference["key"] and "value" not in env[name], name
        mounts = {m["mountPath"]: m["name"] for m in _ray_container(group)["volumeMounts"]}
        volume = {v["name"]: v for v in pod["volumes"]}[mounts[env[DATA_DIR_ENV]["value"]]]
        claims.add(volume["persistentVolumeClaim"]["claimName"])
    assert len(claims) == 1


def test_gpu_workers_hold_every_replica(manifest, serve_config):
    """The head runs no replicas (num-cpus 0), so each deployment's replica must fit in one GPU worker pod, and the
    minimum replicas of all deployments in the group's largest size."""
    assert _cluster(manifest)["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    (group,) = _cluster(manifest)["workerGroupSpecs"]
    limits = _ray_container(group)["resources"]["limits"]
    pod_gpus, pod_cpus = int(limits["nvidia.com/gpu"]), float(limits["cpu"])
    assert pod_gpus >= 1
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in group["template"]["spec"][
        "tolerations"
    ]
    needed_cpus = needed_gpus = 0.0
    for deployment in serve_config["applications"][0]["deployments"]:
        options = deployment["ray_actor_options"]
        assert options.get("num_gpus", 0) <= pod_gpus and options["num_cpus"] <= pod_cpus, deployment["name"]
        minimum = deployment["autoscaling_config"]["min_replicas"]
        needed_cpus += minimum * options["num_cpus"]
        needed_gpus += minimum * options.get("num_gpus", 0)
    assert needed_cpus <= group["maxReplicas"] * pod_cpus and needed_gpus <= group["maxReplicas"] * pod_gpus


def test_readiness_is_health_on_the_serve_port(manifest, serve_config):
    """Worker pods take traffic once /health answers through their Serve proxy. The head keeps KubeRay's own
    probes: KubeRay submits serveConfigV2 only to a ready head (rayservice_controller.go, reconcileServe), so a
    /health probe there would wait forever for an application that is never deployed."""
    serve_port = serve_config["http_options"]["port"]
    for group in _groups(manifest):
        ports = {p["name"]: p["containerPort"] for p in _ray_container(group)["ports"]}
        assert ports["serve"] == serve_port
    assert "readinessProbe" not in _ray_container(_cluster(manifest)["headGroupSpec"])
    for group in _cluster(manifest)["workerGroupSpecs"]:
        probe = _ray_container(group)["readinessProbe"]["httpGet"]
        assert probe["path"] == "/health" and probe["port"] in ("serve", serve_port)
