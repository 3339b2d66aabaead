#!/bin/sh
# Picks the Hearth process this container runs: the first argument, or else HEARTH_SERVICE.
#   <image> auth|user|circle|post|moderation|support|realtime
#   <image> migrate [--service <name>]
#   <image> node ...            (a plain node command, for debugging)
set -eu

# HEARTH_SERVICE is this script's input only: Hearth's config rejects unknown HEARTH_* variables,
# so it must not reach node.
service_env=${HEARTH_SERVICE:-}
unset HEARTH_SERVICE

case "${1:-}" in
  auth | user | circle | post | moderation | support | realtime | migrate)
    target=$1
    shift
    ;;
  node)
    exec "$@"
    ;;
  *)
    target=$service_env
    ;;
esac

case "$target" in
  auth | user | circle | post | moderation | support | realtime)
    # The preload instruments pg, ioredis and http for tracing; it does nothing unless
    # HEARTH_TRACING_EXPORTER is console or otlp.
    exec node --import @hearth/telemetry/register "/app/services/$target/dist/src/main.js" "$@"
    ;;
  migrate)
    exec node /app/tools/dist/src/migrate.js "$@"
    ;;
  *)
    echo "hearth: say which process to run: auth, user, circle, post, moderation, support, realtime or migrate" >&2
    echo "        (as the container command, or in HEARTH_SERVICE); got '${target}'" >&2
    exit 64
    ;;
esac
