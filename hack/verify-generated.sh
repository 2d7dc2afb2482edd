#!/usr/bin/env bash
# Fails when the generated files (CRDs, RBAC, deepcopy) differ from what is committed,
# so a marker change without `make manifests generate` cannot pass CI unnoticed.
# Outside a git checkout, or with uncommitted edits in progress, it only reports.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(config/crd/bases config/rbac api/v1alpha1/zz_generated.deepcopy.go)
git rev-parse --git-dir >/dev/null 2>&1 || exit 0
if ! git diff --quiet HEAD -- "${paths[@]}" 2>/dev/null || [[ -n "$(git ls-files --others --exclude-standard -- "${paths[@]}")" ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "generated files are out of date; run 'make manifests generate' and commit:" >&2
    git status --short -- "${paths[@]}" >&2
    exit 1
  fi
  echo "note: generated files differ from HEAD (commit them):" >&2
  git status --short -- "${paths[@]}" >&2
fi
