"""Checks the chart the way an install would, without a cluster.

Helm itself (the helm-python-sdk package embeds the Helm library) lints the chart, validates
values against values.schema.json and renders the templates; every rendered manifest is then
validated against the Kubernetes API schemas (kubernetes-validate). A values file that breaks
the schema must be refused. Exits non-zero on any failure.
"""

import pathlib
import sys

import helm_python as helm
import kubernetes_validate
import yaml

KUBERNETES = "1.31"
CHART = pathlib.Path(__file__).resolve().parent.parent
CRDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}
failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL {msg}")


def values(name):
    return helm.values_from_yaml((CHART / "ci" / name).read_text())


def check_render(label, vals):
    chart = helm.Chart.load(CHART)
    try:
        chart.validate_schema(vals)
    except Exception as e:  # noqa: BLE001 - any refusal is a failure here
        fail(f"{label}: values refused: {e}")
        return []
    rendered = chart.render(vals, name="civitas", namespace="civitas")
    docs = []
    for path, text in sorted(rendered.items()):
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            docs.append(doc)
            key = (doc.get("apiVersion"), doc.get("kind"))
            if key in CRDS:
                print(f"skip {label}: {path}: {key[1]} is a CRD (no schema in the Kubernetes API)")
                continue
            try:
                kubernetes_validate.validate(doc, KUBERNETES, strict=True)
                print(f"ok   {label}: {path}: {key[1]}")
            except Exception as e:  # noqa: BLE001
                fail(f"{label}: {path}: {e}")
    return docs


def expect(label, cond, what):
    if not cond:
        fail(f"{label}: {what}")


def check_policies(label, docs):
    kinds = {d["kind"]: d for d in docs}
    dep = kinds.get("Deployment")
    expect(label, dep is not None, "no Deployment")
    if dep:
        c = dep["spec"]["template"]["spec"]["containers"][0]
        sc = c.get("securityContext", {})
        expect(label, sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem"), "container must be non-root with a read-only root filesystem")
        expect(label, c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness on /healthz")
        expect(label, c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness on /readyz")
        expect(label, c.get("resources", {}).get("requests") and c["resources"].get("limits"), "requests and limits")
        envs = {e["name"] for e in c.get("env", [])}
        expect(label, "CIVITAS_MIGRATION_DATABASE_URL" not in envs, "pods must not get the owner's URL")
    job = kinds.get("Job")
    expect(label, job is not None, "no migration Job")
    if job:
        hooks = job["metadata"].get("annotations", {}).get("helm.sh/hook", "")
        expect(label, "pre-install" in hooks and "pre-upgrade" in hooks, "migration Job must be a pre-install/pre-upgrade hook")


def main():
    findings = helm.lint(str(CHART))
    for m in findings.get("messages", []):
        print(f"lint: {m}")
    for e in findings.get("errors", []):
        fail(f"lint: {e}")
    default = check_render("defaults", {})
    check_policies("defaults", default)
    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "ConfigMap"):
        expect("defaults", any(d["kind"] == kind for d in default), f"no {kind}")
    dep = next(d for d in default if d["kind"] == "Deployment")
    claims = [v for v in dep["spec"]["template"]["spec"]["volumes"] if "persistentVolumeClaim" in v]
    expect("defaults", len(claims) == 1, "attachments on a shared volume claim by default")
    dep_env = {e["name"] for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    expect("defaults", "CIVITAS_RECEIPT_KEY" in dep_env, "every replica signs receipts with one key from a Secret")
    expect("defaults", "CIVITAS_SECRETS_KEY" in dep_env, "every replica seals stored secrets with one key from a Secret")
    full = check_render("full", values("full-values.yaml"))
    check_policies("full", full)
    conf = next(d for d in full if d["kind"] == "ConfigMap")["data"]["civitas.toml"]
    expect("full", 'attachment_store = "s3"' in conf and "[s3]" in conf, "the S3 store in the configuration")
    envs = {e["name"] for d in full if d["kind"] == "Deployment" for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
    expect("full", "CIVITAS_S3_SECRET_ACCESS_KEY" in envs, "S3 credentials from a Secret")
    for kind in ("Ingress", "ServiceMonitor"):
        expect("full", any(d["kind"] == kind for d in full), f"no {kind}")
    try:
        helm.Chart.load(CHART).validate_schema(values("bad-values.yaml"))
        fail("bad-values.yaml was accepted: the schema must refuse it")
    except Exception as e:  # noqa: BLE001
        print(f"ok   bad values refused: {str(e).splitlines()[0]}")
    if failures:
        print(f"chart check: {len(failures)} failure(s)")
        sys.exit(1)
    print("chart check: ok")


if __name__ == "__main__":
    main()
