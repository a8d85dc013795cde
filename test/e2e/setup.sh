#!/usr/bin/env bash
# Installs the end-to-end host: code-server 4.100.3 (VS Code 1.100.3 on Node 20),
# offline apart from the npm registry. Idempotent: a finished install is marked by
# test/e2e/.host/code-server-<version>.ok and skipped on the next run.
#
# Needs Debian packages: build-essential python3 libkrb5-dev ripgrep chromium
# fonts-dejavu-core (.ci/run installs them). Native modules are built from source
# against the local Node headers; Debian's ripgrep replaces the one @vscode/ripgrep
# would download from GitHub.
set -euo pipefail
CS_VERSION=4.100.3
HERE="$(cd "$(dirname "$0")" && pwd)"
HOST="${E2E_HOST_DIR:-$HERE/.host}"
PREFIX="$HOST/code-server-$CS_VERSION"
MARK="$PREFIX.ok"

if [ -f "$MARK" ]; then
  echo "[e2e setup] code-server $CS_VERSION already installed in $PREFIX"
  exit 0
fi
for tool in rg /usr/bin/chromium make g++ python3; do
  command -v "$tool" >/dev/null || { echo "[e2e setup] missing $tool: apt-get install -y --no-install-recommends build-essential python3 libkrb5-dev ripgrep chromium fonts-dejavu-core" >&2; exit 1; }
done
[ -f /usr/include/krb5.h ] || [ -f /usr/include/krb5/krb5.h ] || { echo "[e2e setup] missing libkrb5-dev (apt-get install -y libkrb5-dev)" >&2; exit 1; }
NODE_HEADERS=""
for d in "$(dirname "$(dirname "$(command -v node)")")" /usr /usr/local; do
  if [ -f "$d/include/node/node_api.h" ]; then NODE_HEADERS="$d"; break; fi
done
[ -n "$NODE_HEADERS" ] || { echo "[e2e setup] node headers (include/node/node_api.h) not found" >&2; exit 1; }

rm -rf "$PREFIX"
mkdir -p "$PREFIX"
cd "$PREFIX"
# Keep npm's cache and config away from the home folder and from the project's .npmrc.
export npm_config_cache="$HOST/npm-cache"
export npm_config_userconfig="$HOST/npmrc"
export npm_config_nodedir="$NODE_HEADERS"  # no header download from nodejs.org
export npm_config_yes=true                 # node-pty's postinstall runs `npx node-gyp`
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
: > "$HOST/npmrc"
echo '{"name":"e2e-host","private":true}' > package.json
echo "[e2e setup] npm install code-server@$CS_VERSION"
npm install --no-audit --no-fund --ignore-scripts --loglevel=error "code-server@$CS_VERSION"
npm rebuild --loglevel=error argon2
VS="$PREFIX/node_modules/code-server/lib/vscode"
cd "$VS"
echo "[e2e setup] VS Code server dependencies"
npm install --no-audit --no-fund --omit=dev --ignore-scripts --loglevel=error
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
echo "[e2e setup] building native modules"
npm rebuild --loglevel=error kerberos native-watchdog node-pty @parcel/watcher @vscode/deviceid @vscode/spdlog
# The rest of code-server's own postinstall.sh.
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && npm install --no-audit --no-fund --omit=dev --loglevel=error)
node -e "
for (const m of ['@vscode/spdlog','node-pty','native-watchdog','@parcel/watcher','@vscode/deviceid','kerberos']) require('$VS/node_modules/' + m);
require('$PREFIX/node_modules/argon2');
const v = require('$PREFIX/node_modules/code-server/package.json').version;
if (v !== '$CS_VERSION') throw new Error('code-server version ' + v);
console.log('[e2e setup] native modules OK, code-server ' + v);
"
touch "$MARK"
