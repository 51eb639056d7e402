#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the test fixtures and the embedded data (idempotent; the
# corpora themselves are not committed). Run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
corpus="$here/corpus"
mkdir -p "$corpus"/{platform_toml,catalog,tofu_events,theme,kubeconfig,store_records,store_file}

cp "$root"/tests/fixtures/valid/platform-*.toml "$root"/tests/fixtures/invalid/platform-*.toml \
   "$root"/tests/fixtures/wizard/expected-platform.toml "$corpus/platform_toml/"

cp "$root"/tests/fixtures/valid/catalog-*.toml "$root"/tests/fixtures/invalid/catalog-*.toml "$corpus/catalog/"
cp "$root/src/catalog/components.toml" "$corpus/catalog/embedded-components.toml"

cp "$root"/themes/*.toml "$corpus/theme/"

# OpenTofu -json lines in the documented shapes, plus the stand-in's full plan and apply streams.
cat > "$corpus/tofu_events/documented.jsonl" <<'JSON'
{"@level":"info","@message":"OpenTofu 1.8.3","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:00Z","tofu":"1.8.3","type":"version","ui":"1.2"}
{"@level":"info","@message":"hcloud_server.cp[0]: Creating...","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:00Z","hook":{"resource":{"addr":"hcloud_server.cp[0]","module":"","resource":"hcloud_server.cp[0]","implied_provider":"hcloud","resource_type":"hcloud_server","resource_name":"cp","resource_key":0},"action":"create"},"type":"apply_start"}
{"@level":"info","@message":"hcloud_server.cp[0]: Still creating... [10s elapsed]","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:10Z","hook":{"resource":{"addr":"hcloud_server.cp[0]"},"action":"create","elapsed_seconds":10},"type":"apply_progress"}
{"@level":"info","@message":"hcloud_server.cp[0]: Creation complete after 31s [id=1]","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:31Z","hook":{"resource":{"addr":"hcloud_server.cp[0]"},"action":"create","id_key":"id","id_value":"1","elapsed_seconds":31},"type":"apply_complete"}
{"@level":"error","@message":"Error: server type not found","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:02Z","diagnostic":{"severity":"error","summary":"server type not found","detail":"cx99 is unknown","address":"hcloud_server.cp[0]","range":{"filename":"main.tf","start":{"line":1,"column":1,"byte":0},"end":{"line":1,"column":9,"byte":8}},"snippet":{"context":"resource","code":"x","start_line":1,"highlight_start_offset":0,"highlight_end_offset":1,"values":[]}},"type":"diagnostic"}
{"@level":"info","@message":"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:40Z","changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"apply"},"type":"change_summary"}
{"@level":"info","@message":"Outputs: 1","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:40Z","outputs":{"kubeconfig":{"sensitive":true,"type":"string"}},"type":"outputs"}
{"@level":"info","@message":"hcloud_server.cp[0]: Provisioning with 'remote-exec'...","@module":"tofu.ui","hook":{"resource":{"addr":"hcloud_server.cp[0]"},"provisioner":"remote-exec"},"type":"provision_start"}
{"@level":"info","@message":"unknown","type":"cloud_bill","bill":{"eur":12}}
{"@level":"info","@message":"hcloud_server.cp[0]: Creating...","@module":"te
plain text from a provider
JSON
printf '%s' '{"kubeconfig":{"sensitive":true,"type":"string","value":"apiVersion: v1"},"ips":{"sensitive":false,"type":["list","string"],"value":["10.0.0.1"]}}' \
  > "$corpus/tofu_events/outputs.json"
fake="$root/target/debug/openova-fake-tofu"
if [ -x "$fake" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && "$fake" plan -json > "$corpus/tofu_events/stand-in-plan.jsonl" 2>/dev/null || true)
  (cd "$tmp" && FAKE_TOFU_SCENARIO=fail "$fake" apply -json > "$corpus/tofu_events/stand-in-apply-fail.jsonl" 2>/dev/null || true)
  rm -rf "$tmp"
fi

cat > "$corpus/kubeconfig/two-contexts.yaml" <<'YAML'
apiVersion: v1
kind: Config
clusters:
- name: hz-fsn-rtz-prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
- name: hz-nbg-rtz-prod
  cluster:
    server: https://10.0.1.1:6443
    insecure-skip-tls-verify: true
contexts:
- name: hz-fsn-rtz-prod
  context: {cluster: hz-fsn-rtz-prod, user: admin, namespace: openova-system}
- name: hz-nbg-rtz-prod
  context: {cluster: hz-nbg-rtz-prod, user: token}
users:
- name: admin
  user:
    client-certificate-data: bm90IGEgY2VydA==
    client-key-data: bm90IGEga2V5
- name: token
  user: {token: abc}
current-context: hz-fsn-rtz-prod
YAML
# Two files merged (0xFF separates them in this target's input).
{ head -c 400 "$corpus/kubeconfig/two-contexts.yaml"; printf '\377'; cat "$corpus/kubeconfig/two-contexts.yaml"; } \
  > "$corpus/kubeconfig/merged"

# store_records: first byte 0 = a run row (fields split by 0xFE), anything else = draft JSON.
printf '\001{}' > "$corpus/store_records/draft-empty"
printf '\001{"org_name":"Acme Financial","org_slug":"acme","domain":"acme.io","email":"platform@acme.io","env":"prod","provider":"hz","regions":[{"location":"fsn"},{"location":"nbg"}],"components":["debezium"],"step":"review","reached":"review"}' \
  > "$corpus/store_records/draft-filled"
printf '\000run1\376apply\376running\376acme\376apiVersion = 1\376/ws\376{}\3761234\3765678\376boom\376init' \
  > "$corpus/store_records/run-row"

python3 - "$corpus/store_file/sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE drafts(id INTEGER PRIMARY KEY, title TEXT, data TEXT)")
c.execute("INSERT INTO drafts(title, data) VALUES ('x', '{}')")
c.execute("PRAGMA user_version = 99")
c.commit()
PY
printf 'SQLite format 3\000' > "$corpus/store_file/header-only"

for d in "$corpus"/*/; do echo "$(basename "$d"): $(ls "$d" | wc -l) seeds"; done
