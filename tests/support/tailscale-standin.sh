#!/bin/sh
# Stand-in for the stock `tailscale` CLI (tailscaled cannot run in tests
# without a control server). It accepts and refuses arguments as upstream
# parses them, read from tailscale/tailscale:
# - Go's flag package (ffcli): `-name` or `--name`, `--name=value` or
#   `--name value` (not for bools), parsing stops at the first non-flag
#   argument or `--`; an unknown flag is "flag provided but not defined".
# - cmd/tailscale/cli/tailnet-lock.go: `lock init` flags gen-disablements
#   (int), gen-disablement-for-support, confirm (bools); positional
#   `tlpub:`/`nlpub:` + 64 hex digits with optional `?VOTES`, and
#   `disablement:`/`disablement-secret:` + hex (parseTLArgs); the node's own
#   key must be listed. `lock revoke-keys` flags cosign, finish (bools),
#   fork-from (string); keys only to start, else one hex blob.
#   `lock status` flag json; `lock log` flags limit (int), json.
# - cmd/tailscale/jsonoutput/jsonoutput.go: `--json` alone means version 1,
#   `--json=N` version N (only 1 is known), `--json=false` is off.
# - cmd/tailscale/cli/up.go: `--auth-key` (string; `file:PATH` reads the
#   file), `--force-reauth` (bool); no positional arguments. Other `up`
#   flags are not modelled and are refused.
# Status and log print the vendored samples; commands that would change
# the tailnet are appended to the log file.
LOG="@LOG@"
SAMPLES="@SAMPLES@"
# The node's own tailnet lock key (the sample status's PublicKey).
SELF_HEX=8b940c0677991c1cefde81297c0c8bc44d9a8aaa5aa6b41c0da35ab5e23db0b2

fail() { echo "$*" >&2; exit 1; }

# parse_flags SPEC ARGS...: SPEC is "name:type ..." (bool, int, string,
# json). Sets F_<name> and CONSUMED (how many arguments were flags).
parse_flags() {
  spec=$1; shift
  CONSUMED=0
  while [ $# -gt 0 ]; do
    a=$1
    case $a in
      --) CONSUMED=$((CONSUMED + 1)); return ;;
      -) return ;;
      -*) ;;
      *) return ;;
    esac
    n=${a#-}; n=${n#-}
    case $n in -*|=*|'') fail "bad flag syntax: $a" ;; esac
    has_val=0; val=
    case $n in *=*) val=${n#*=}; n=${n%%=*}; has_val=1 ;; esac
    type=
    for s in $spec; do [ "${s%%:*}" = "$n" ] && type=${s#*:}; done
    [ -n "$type" ] || fail "flag provided but not defined: -$n"
    case $type in
      bool)
        if [ $has_val = 1 ]; then
          case $val in
            1|t|T|true|TRUE|True) val=true ;;
            0|f|F|false|FALSE|False) val=false ;;
            *) fail "invalid boolean value \"$val\" for -$n: parse error" ;;
          esac
        else val=true; fi ;;
      json)
        if [ $has_val = 1 ]; then
          case $val in
            ''|*[!0-9]*)
              case $val in
                t|T|true|TRUE|True) val=1 ;;
                f|F|false|FALSE|False) val= ;;
                *) fail "invalid value \"$val\" for flag -$n: parse error" ;;
              esac ;;
          esac
        else val=1; fi ;;
      int|string)
        if [ $has_val = 0 ]; then
          [ $# -ge 2 ] || fail "flag needs an argument: -$n"
          shift; CONSUMED=$((CONSUMED + 1)); val=$1
        fi
        if [ "$type" = int ]; then
          case $val in ''|-|*[!0-9-]*|?*-*) fail "invalid value \"$val\" for flag -$n: parse error" ;; esac
        fi ;;
    esac
    eval "F_$(echo "$n" | tr - _)=\$val"
    shift; CONSUMED=$((CONSUMED + 1))
  done
}

is_hex() { case $1 in *[!0-9a-fA-F]*) return 1 ;; esac; [ $((${#1} % 2)) -eq 0 ]; }

# parse_tl_arg I ARG KEYS DISABLEMENTS (parseTLArgs for one argument).
parse_tl_arg() {
  i=$1; a=$2
  if [ "$4" = yes ]; then
    case $a in
      disablement:*|disablement-secret:*)
        is_hex "${a#*:}" || fail "parsing disablement $i: encoding/hex: invalid byte"
        return ;;
    esac
  fi
  [ "$3" = yes ] || fail "parsing argument $i: expected value with \"disablement:\" or \"disablement-secret:\" prefix, got \"$a\""
  k=${a%%\?*}
  case $a in
    *\?*) v=${a#*\?}
      case $v in ''|-|*[!0-9-]*|?*-*) fail "parsing key $i votes: strconv.Atoi: parsing \"$v\": invalid syntax" ;; esac ;;
  esac
  case $k in
    nlpub:*) h=${k#nlpub:} ;;
    tlpub:*) h=${k#tlpub:} ;;
    *) fail "parsing key $i: key hex string doesn't have expected type prefix tlpub:" ;;
  esac
  [ ${#h} -eq 64 ] || fail "parsing key $i: key hex has the wrong size, got ${#h} want 64"
  case $h in *[!0-9a-fA-F]*) fail "parsing key $i: invalid hex character in key" ;; esac
  KEY_HEX=$(echo "$h" | tr 'A-F' 'a-f')
}

check_json_version() {
  [ -z "$F_json" ] || [ "$F_json" = 1 ] || fail "unrecognised version: $F_json"
}

all="$*"
case "$1 $2" in
  "lock init")
    shift 2
    F_gen_disablements=1; F_confirm=false
    parse_flags "gen-disablements:int gen-disablement-for-support:bool confirm:bool" "$@"
    shift $CONSUMED
    i=0; self=no
    for a in "$@"; do
      i=$((i + 1)); KEY_HEX=
      parse_tl_arg $i "$a" yes yes
      [ "$KEY_HEX" = "$SELF_HEX" ] && self=yes
    done
    [ $self = yes ] || fail "the tailnet lock key of the current node must be one of the trusted keys during initialization"
    if [ "$F_confirm" != true ]; then
      echo "If this is correct, please re-run this command with the --confirm flag:"
      exit 0
    fi
    echo "$all" >> "$LOG" ;;
  "lock revoke-keys")
    shift 2
    F_cosign=false; F_finish=false; F_fork_from=
    parse_flags "cosign:bool finish:bool fork-from:string" "$@"
    shift $CONSUMED
    if [ "$F_cosign" != true ] && [ "$F_finish" != true ]; then
      i=0
      for a in "$@"; do i=$((i + 1)); parse_tl_arg $i "$a" yes no; done
      [ $i -gt 0 ] || fail "missing argument, expected one or more tailnet lock keys"
      echo "revoke-keys start $*" >> "$LOG"
      exit 0
    fi
    # Upstream indexes args[0] without a check (a Go panic).
    [ $# -ge 1 ] || { echo "panic: runtime error: index out of range [0] with length 0" >&2; exit 2; }
    is_hex "$1" && [ -n "$1" ] || fail "parsing hex: encoding/hex: invalid byte"
    [ "$F_cosign" = true ] && echo "revoke-keys cosign $1" >> "$LOG"
    [ "$F_finish" = true ] && echo "revoke-keys $1" >> "$LOG"
    exit 0 ;;
  "lock status")
    shift 2
    F_json=
    parse_flags "json:json" "$@"
    shift $CONSUMED
    [ $# -eq 0 ] || fail "tailscale lock status: unexpected argument"
    check_json_version
    if [ -n "$F_json" ]; then cat "$SAMPLES/lock-status.json"; else echo "Tailnet Lock is ENABLED."; fi ;;
  "lock log")
    shift 2
    F_json=; F_limit=50
    parse_flags "limit:int json:json" "$@"
    check_json_version
    if [ -n "$F_json" ]; then cat "$SAMPLES/lock-log.json"; else echo "(log)"; fi ;;
  "up "*)
    shift 1
    F_auth_key=; F_force_reauth=false
    parse_flags "auth-key:string force-reauth:bool" "$@"
    shift $CONSUMED
    [ $# -eq 0 ] || fail "too many non-flag arguments: $*"
    key=$F_auth_key
    case $key in file:*) key=$(cat "${key#file:}") || fail "reading auth key file" ;; esac
    if [ "$F_force_reauth" = true ]; then echo "up --force-reauth $key" >> "$LOG"; else echo "up $key" >> "$LOG"; fi ;;
  *) echo "stand-in tailscale: unexpected arguments: $*" >&2; exit 2 ;;
esac
