#!/usr/bin/env bash
# Installs the peers that bench/peers/peers-bench.ts compares Apogee with, from Debian's packages.
# Their Node clients (ioredis, amqplib, nats) are dev dependencies. The packages' own services are
# not used: the bench starts each server on loopback ports over a temp dir and stops it afterwards.
set -euo pipefail
command -v redis-server >/dev/null && command -v rabbitmq-server >/dev/null && command -v nats-server >/dev/null && exit 0
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server rabbitmq-server nats-server
