#!/bin/sh
# OrgLoop script contract: event JSON on stdin, the event (possibly changed) on stdout;
# exit 1 drops it, exit 2 or more is an error (on_error decides).
event=$(cat)
case "$event" in
  *'"draft":true'*) exit 1 ;;
esac
printf '%s\n' "$event"
