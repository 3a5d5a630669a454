#!/bin/bash
# Container HEALTHCHECK: GET /healthz on the admin port. Uses bash's /dev/tcp because the
# slim image has no curl. SWITCHYARD_ADMIN_PORT must match [admin] address.
set -u
port=${SWITCHYARD_ADMIN_PORT:-9187}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 2 status <&3 || exit 1
[[ $status == "HTTP/1.1 200"* ]]
