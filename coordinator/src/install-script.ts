// Putting a board in the fleet with one line: GET /install.sh is a POSIX shell script, written for
// the address the board reached the coordinator at, that installs the standalone agent package
// (GET /downloads/litepred-agent-<version>.tgz: ws and onnxruntime-node are its only dependencies,
// nothing compiles) and enrols it; with --service, as a systemd unit that survives reboots.
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { STANDALONE_NAME, STANDALONE_VERSION, standaloneTarball } from '@litepred/agent/standalone';

/** The one line that enrols a board, for `token create` and the dashboard. */
export function installLine(httpUrl: string, token: string): string {
  return `curl -fsSL ${httpUrl}/install.sh | sh -s -- --token ${token}`;
}

/** The coordinator as the client reached it (the Host header), for URLs written into the script. */
function baseUrl(req: IncomingMessage): string {
  const host = req.headers.host && /^[\w.:[\]-]+$/.test(req.headers.host) ? req.headers.host : '127.0.0.1';
  return `http://${host}`;
}

export function installScript(base: string): string {
  const ws = base.replace(/^http/, 'ws');
  return `#!/bin/sh
# litepred agent installer, from the coordinator at ${base}.
#   curl -fsSL ${base}/install.sh | sh -s -- --token lpe_...
# or, without piping to sh:
#   curl -fsSLO ${base}/install.sh && sh install.sh --token lpe_...
set -eu

COORDINATOR_HTTP='${base}'
COORDINATOR_WS='${ws}'
NAME='${STANDALONE_NAME}'
VERSION='${STANDALONE_VERSION}'
DIR="\${HOME}/.litepred/agent"
TOKEN=''
SERVICE=''
THREADS=1
OPT_LEVEL=all
START=1

usage() {
  cat <<USAGE
Installs the litepred agent (Node 20 or newer needed) and enrols this machine with \${COORDINATOR_HTTP}.

  sh install.sh --token lpe_... [--dir DIR] [--threads N] [--opt-level LEVEL] [--service user|system] [--no-start]

  --token TOKEN        an enrolment token (litepred token create)
  --dir DIR            where to install (default ~/.litepred/agent)
  --threads N          intra-op threads the agent measures with (default 1)
  --opt-level LEVEL    graph optimization: disabled, basic, extended, all (default all)
  --service SCOPE      run as a systemd unit (user: ~/.config/systemd/user, system: needs root) that
                       starts at boot and logs to the journal; without it the agent runs in this terminal
  --no-start           install only; start with: DIR/node_modules/.bin/litepred-agent run ...
USAGE
}

fail() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --token) [ $# -ge 2 ] || fail "--token needs a value"; TOKEN="$2"; shift 2 ;;
    --dir) [ $# -ge 2 ] || fail "--dir needs a value"; DIR="$2"; shift 2 ;;
    --threads) [ $# -ge 2 ] || fail "--threads needs a value"; THREADS="$2"; shift 2 ;;
    --opt-level) [ $# -ge 2 ] || fail "--opt-level needs a value"; OPT_LEVEL="$2"; shift 2 ;;
    --service) [ $# -ge 2 ] || fail "--service needs user or system"; SERVICE="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; fail "unknown option $1" ;;
  esac
done

case "$THREADS" in ''|*[!0-9]*) fail "--threads takes a positive whole number, not '$THREADS'" ;; esac
case "$OPT_LEVEL" in disabled|basic|extended|all) ;; *) fail "--opt-level: disabled, basic, extended or all, not '$OPT_LEVEL'" ;; esac
case "$SERVICE" in ''|user|system) ;; *) fail "--service: user or system, not '$SERVICE'" ;; esac
case "$TOKEN" in ''|lpe_*) ;; *) fail "--token: an enrolment token starts with lpe_" ;; esac

command -v node >/dev/null 2>&1 ||
  fail "Node.js 20 or newer is needed and node was not found (https://nodejs.org, or your distribution's nodejs package)"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || fail "Node.js 20 or newer is needed; this is $(node --version)"
command -v npm >/dev/null 2>&1 || fail "npm was not found (it comes with Node.js)"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
STATE="$DIR/agent.json"
TARBALL="$DIR/$NAME-$VERSION.tgz"
echo "litepred agent $VERSION into $DIR"
if command -v curl >/dev/null 2>&1; then
  curl -fsSL "$COORDINATOR_HTTP/downloads/$NAME-$VERSION.tgz" -o "$TARBALL"
elif command -v wget >/dev/null 2>&1; then
  wget -q -O "$TARBALL" "$COORDINATOR_HTTP/downloads/$NAME-$VERSION.tgz"
else
  node -e 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) throw new Error("HTTP " + r.status);
    require("fs").writeFileSync(process.argv[2], Buffer.from(await r.arrayBuffer())); })
    .catch((e) => { console.error(e.message); process.exit(1); })' \\
    "$COORDINATOR_HTTP/downloads/$NAME-$VERSION.tgz" "$TARBALL"
fi
# allowScripts: npm 11.16 and later would list onnxruntime-node's install step as not reviewed.
[ -f "$DIR/package.json" ] ||
  printf '{ "name": "litepred-agent-install", "private": true, "allowScripts": { "onnxruntime-node": false } }\\n' > "$DIR/package.json"
# onnxruntime-node's CPU binaries ship in its npm package; its install step would fetch CUDA ones.
( cd "$DIR" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --omit=dev \
  \${LITEPRED_NPM_FLAGS:-} "./$NAME-$VERSION.tgz" ) ||
  fail "npm install failed (see above)"
BIN="$DIR/node_modules/.bin/$NAME"
RUN_SHOWN="\\"$BIN\\" run --coordinator $COORDINATOR_WS --threads $THREADS --opt-level $OPT_LEVEL --state \\"$STATE\\""

UNIT=''
if [ -n "$SERVICE" ]; then
  if [ "$SERVICE" = system ]; then
    UNIT=/etc/systemd/system/$NAME.service
  else
    UNIT="\${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user/$NAME.service"
  fi
fi
printf '{ "dir": "%s", "state": "%s", "unit": "%s", "unitScope": "%s" }\\n' \\
  "$DIR" "$STATE" "$UNIT" "$SERVICE" > "$DIR/litepred-agent-install.json"

if [ -n "$TOKEN" ] && [ ! -f "$STATE" ]; then
  # Enrol now (the identity is kept in $STATE): the service, if any, then runs without the token.
  echo "enrolling with $COORDINATOR_HTTP..."
  "$BIN" enrol --coordinator "$COORDINATOR_WS" --token "$TOKEN" --state "$STATE"
fi
[ -f "$STATE" ] || fail "not enrolled: pass --token lpe_... (litepred token create on the coordinator)"

if [ -n "$SERVICE" ]; then
  command -v systemctl >/dev/null 2>&1 || fail "--service needs systemd (systemctl not found); run without it: $RUN_SHOWN"
  mkdir -p "$(dirname "$UNIT")"
  cat > "$UNIT" <<UNITFILE
[Unit]
Description=litepred agent ($COORDINATOR_HTTP)
After=network-online.target
Wants=network-online.target

[Service]
ExecStart="$(command -v node)" "$DIR/node_modules/$NAME/$NAME.mjs" run \\
  --coordinator $COORDINATOR_WS --threads $THREADS --opt-level $OPT_LEVEL --state "$STATE"
Restart=always
RestartSec=5
$( [ "$SERVICE" = system ] && echo "User=$(id -un)" )

[Install]
WantedBy=$( [ "$SERVICE" = system ] && echo multi-user.target || echo default.target )
UNITFILE
  if [ "$SERVICE" = system ]; then
    systemctl daemon-reload && systemctl enable --now "$NAME"
  else
    systemctl --user daemon-reload && systemctl --user enable --now "$NAME"
  fi
  echo "installed as the systemd unit $UNIT; logs: journalctl $( [ "$SERVICE" = user ] && echo '--user ' )-u $NAME -f"
  [ "$SERVICE" = user ] && echo "(for it to run while you are logged out: loginctl enable-linger $(id -un))"
  exit 0
fi
echo "installed. Status: \\"$BIN\\" status --state \\"$STATE\\"; remove: \\"$BIN\\" uninstall"
[ "$START" = 1 ] || { echo "start it with: $RUN_SHOWN"; exit 0; }
exec "$BIN" run --coordinator "$COORDINATOR_WS" --threads "$THREADS" --opt-level "$OPT_LEVEL" --state "$STATE"
`;
}

/** GET /install.sh and GET /downloads/<the standalone agent's tarball>; false for anything else. */
export function serveInstall(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const { pathname } = new URL(req.url ?? '/', 'http://x');
  if (pathname === '/install.sh') {
    const body = installScript(baseUrl(req));
    res.writeHead(200, {
      'Content-Type': 'text/x-shellscript; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  if (!pathname.startsWith('/downloads/')) return false;
  const { name, file } = standaloneTarball();
  if (pathname !== `/downloads/${name}`) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`no such download: ${pathname} (this coordinator serves /downloads/${name})\n`);
    return true;
  }
  if (!existsSync(file)) {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('The agent package is not built: run `npm run build` (it packs agent/standalone/).\n');
    return true;
  }
  res.writeHead(200, {
    'Content-Type': 'application/gzip',
    'Content-Length': statSync(file).size,
    'Content-Disposition': `attachment; filename="${name}"`,
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}
