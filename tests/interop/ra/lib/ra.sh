# shellcheck shell=bash
# Shared definitions and helpers of the remote-access interop cells (sourced).
# Everything runs on this machine's kernel, in network namespaces the cell
# creates; ESP is done in user space by every party (vpnc, charon's
# kernel-libipsec, our peer), always inside UDP 4500 (NAT-T forced).
RA_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RA_DIR=$(cd "$RA_LIB/.." && pwd)
# log, nap, wait_for, stop_pid (bash builtins, bounded)
source "$RA_DIR/../lib/common.sh"
RA_OUT=${RA_OUT:-$IKEINT_OUT/ra}

# ------------------------------------------------------------ the scenario
# One gateway (the server) with a protected LAN behind it, one road warrior
# (the client) on the outside link. The same values go into every server's
# configuration (strongSwan's swanctl.conf, our IOS Easy VPN configuration),
# so every client must see the same assignment.
RA_SRV_IP=192.0.2.1 RA_CLI_IP=192.0.2.2            # the outside link, /24
RA_LAN_GW=10.0.0.254 RA_LAN_HOST=10.0.0.1          # the protected LAN, /24
RA_LAN_NET=10.0.0.0/24
RA_POOL_FIRST=10.99.0.10 RA_POOL_LAST=10.99.0.50   # the address pool
RA_NETMASK=255.255.255.0
RA_DNS=10.0.0.53
RA_DOMAIN=ra.example
RA_BANNER="RA interop gateway"
RA_GROUP=ragroup RA_GROUP_KEY=ra-group-secret      # group name (key ID) + its PSK
RA_USER=alice RA_PASSWORD=alice-pw-1 RA_BAD_PASSWORD=not-alices-pw
# the IKE and ESP proposals the strongSwan server accepts: vpnc's defaults
# (AES-256/192/128, 3DES, SHA-1 or MD5, MODP-1024) and the usual Cisco ones
RA_SS_SRV_IKE=aes256-sha1-modp1024,aes128-sha1-modp1024,3des-sha1-modp1024,3des-md5-modp1024
RA_SS_SRV_ESP=aes256-sha1,aes128-sha1,3des-sha1,3des-md5
# what the strongSwan client and our client propose (one suite: the cell is
# about XAUTH and Mode-Config, not about algorithm negotiation)
RA_CLI_IKE=aes256-sha1-modp1024 RA_CLI_ESP=aes256-sha1

ip_to_int() { local IFS=.; set -- $1; echo $(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 )); }
in_pool() { # ADDRESS -> 0 when inside RA_POOL_FIRST..RA_POOL_LAST
    [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || return 1
    local a f l; a=$(ip_to_int "$1"); f=$(ip_to_int "$RA_POOL_FIRST"); l=$(ip_to_int "$RA_POOL_LAST")
    [ "$a" -ge "$f" ] && [ "$a" -le "$l" ]
}

# ra_spawn NS RUNDIR PIDFILE LOG CMD... : start CMD in NS in the background.
# PIDFILE gets the daemon's own PID (the shell writes $$ and execs CMD), so it
# can be stopped by PID whatever ip-netns-exec does. RUNDIR other than "-"
# is bind-mounted over /run for CMD alone (ip netns exec gives CMD a private
# mount namespace): charon's PID file and the like stay in the cell.
# RA_SPAWN_BIND="SRC:DST" also binds SRC over DST for CMD alone (pluto's
# helpers, lib/lsw.sh).
ra_spawn() {
    local ns=$1 rundir=$2 pidfile=$3 logf=$4; shift 4
    rm -f "$pidfile"
    ( exec ip netns exec "$ns" /bin/sh -c '
        rundir=$1 pidfile=$2 bind=$3; shift 3
        if [ "$rundir" != - ]; then mount --bind "$rundir" /run || exit 97; fi
        if [ -n "$bind" ]; then mount --bind "${bind%%:*}" "${bind#*:}" || exit 97; fi
        echo $$ > "$pidfile"
        exec "$@"' ra-spawn "$rundir" "$pidfile" "${RA_SPAWN_BIND:-}" "$@" ) >> "$logf" 2>&1 &
    RA_SPAWNED=$!
}
# ra_pid PIDFILE -> the PID in it (empty if none yet)
ra_pid() { local p=; [ -s "$1" ] && read -r p < "$1"; echo "${p:-}"; }

# ra_netns_up PREFIX : the cell's three namespaces
#   PREFIX-c  the client       veth0 192.0.2.2/24
#   PREFIX-s  the server       veth0 192.0.2.1/24, veth1 10.0.0.254/24 (forwards)
#   PREFIX-l  a host on the protected LAN, veth0 10.0.0.1/24, default via 10.0.0.254
ra_netns_up() {
    local p=$1 ns
    for ns in "$p-c" "$p-s" "$p-l"; do
        # a leftover of an aborted run of this cell
        if [ -e "/run/netns/$ns" ]; then ip netns del "$ns" 2>/dev/null || true; fi
    done
    # few processes: in the emulated guest each one costs up to a second
    ip -batch - <<EOT || return 1
netns add $p-c
netns add $p-s
netns add $p-l
link add veth0 netns $p-c type veth peer name veth0 netns $p-s
link add veth1 netns $p-s type veth peer name veth0 netns $p-l
EOT
    ra_ns_batch "$p-c" 0 <<EOT || return 1
addr add $RA_CLI_IP/24 dev veth0
link set veth0 up
EOT
    ra_ns_batch "$p-s" 1 <<EOT || return 1
addr add $RA_SRV_IP/24 dev veth0
link set veth0 up
addr add $RA_LAN_GW/24 dev veth1
link set veth1 up
EOT
    ra_ns_batch "$p-l" 0 <<EOT || return 1
addr add $RA_LAN_HOST/24 dev veth0
link set veth0 up
route add default via $RA_LAN_GW
EOT
}
# ra_ns_batch NS FORWARD < ip-batch-commands : in NS, IPv6 off, IPv4
# forwarding FORWARD (0|1), lo up, then the ip commands on stdin
ra_ns_batch() {
    local cmds=$'link set lo up\n' line
    while IFS= read -r line; do cmds+=$line$'\n'; done
    ip netns exec "$1" /bin/sh -c '
        for f in all default; do echo 1 > /proc/sys/net/ipv6/conf/$f/disable_ipv6; done
        echo "$0" > /proc/sys/net/ipv4/ip_forward
        exec ip -batch -' "$2" <<< "$cmds"
}
# ra_netns_down PREFIX : delete the cell's namespaces; a process still
# running in one of them (a daemon's own child the cell never knew of) is
# stopped first: a deleted namespace would not end it
ra_netns_down() {
    local p=$1 ns pids i
    for ns in "$p-c" "$p-s" "$p-l"; do
        [ -e "/run/netns/$ns" ] || continue
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [ -n "$pids" ]; then
            log "namespace $ns: stopping leftover process(es) $(echo $pids)"
            kill -TERM $pids 2>/dev/null || true
            for i in 1 2 3 4 5 6 7 8 9 10; do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; nap 0.2; done
            pids=$(ip netns pids "$ns" 2>/dev/null || true)
            [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
        fi
        ip netns del "$ns" 2>/dev/null || true
    done
}

# ------------------------------------------------------------- strongSwan
# ra_ss_write_conf DIR RUNDIR ROLE(server|client) MODE(main|aggressive) PASSWORD
# charon with kernel-libipsec (ESP in user space on its own TUN, ipsec0,
# created in the namespace charon runs in) and NAT-T forced (libipsec only
# does ESP in UDP). kernel-libipsec is loaded before kernel-netlink: the
# first loaded IPsec backend wins, kernel-netlink still handles routes and
# addresses. SS_LOG_IKE=4 (default) logs the IKE keys, which the wire check
# needs to decrypt the Transaction exchanges.
ra_ss_write_conf() {
    local d=$1 rundir=$2 role=$3 mode=$4 pw=$5 aggr=no
    [ "$mode" = aggressive ] && aggr=yes
    mkdir -p "$d"
    cat > "$d/strongswan.conf" <<EOT
# generated by tests/interop/ra/lib/ra.sh (charon reads it via STRONGSWAN_CONF)
charon {
    load_modular = no
    load = random nonce openssl sha1 sha2 md5 hmac aes gmp pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici unity xauth-generic
    # routes through ipsec0 (table 220) and the virtual IP on it
    install_routes = yes
    install_virtual_ip = yes
    # Unity: the server answers split-include requests with its local_ts,
    # the client asks for them (and sends the Unity vendor ID)
    cisco_unity = yes
    # strongSwan refuses Aggressive Mode with PSK as a responder without this
    i_dont_care_about_security_and_use_aggressive_mode_psk = $aggr
    retransmit_timeout = 3.0
    retransmit_tries = 2
    filelog {
        ra {
            path = $d/charon.log
            time_format = %H:%M:%S
            append = no
            flush_line = yes
            default = 1
            ike = ${SS_LOG_IKE:-4}
            cfg = 2
            knl = 1
            net = 1
            esp = 1
            enc = 1
        }
    }
    plugins {
        vici {
            socket = unix://$rundir/charon.vici
        }
        openssl {
            load_legacy = yes
        }
    }
}
swanctl {
    load = random pem pkcs1 x509 pubkey
    socket = unix://$rundir/charon.vici
}
EOT
    if [ "$role" = server ]; then
        cat > "$d/swanctl.conf" <<EOT
# generated by tests/interop/ra/lib/ra.sh: XAUTH + Mode-Config server
connections {
    ra {
        version = 1
        aggressive = $aggr
        local_addrs = $RA_SRV_IP
        proposals = $RA_SS_SRV_IKE
        encap = yes
        pools = rapool
        send_certreq = no
        local {
            auth = psk
            id = $RA_SRV_IP
        }
        # the group: its name is the client's ID (a key ID), its key the PSK
        remote {
            auth = psk
            id = keyid:$RA_GROUP
        }
        # then the user: XAUTH, checked against the xauth secrets below
        remote-xauth {
            auth = xauth
        }
        children {
            ra {
                local_ts = $RA_LAN_NET
                esp_proposals = $RA_SS_SRV_ESP
            }
        }
    }
}
pools {
    rapool {
        addrs = $RA_POOL_FIRST-$RA_POOL_LAST
        dns = $RA_DNS
        netmask = $RA_NETMASK
        # Unity attributes by number: UNITY_BANNER, UNITY_DEF_DOMAIN
        28672 = "$RA_BANNER"
        28674 = $RA_DOMAIN
    }
}
secrets {
    ike-group {
        id = keyid:$RA_GROUP
        secret = "$RA_GROUP_KEY"
    }
    xauth-user {
        id = $RA_USER
        secret = "$RA_PASSWORD"
    }
}
EOT
    else
        cat > "$d/swanctl.conf" <<EOT
# generated by tests/interop/ra/lib/ra.sh: XAUTH + Mode-Config client
connections {
    ra {
        version = 1
        aggressive = $aggr
        local_addrs = $RA_CLI_IP
        remote_addrs = $RA_SRV_IP
        proposals = $RA_CLI_IKE
        encap = yes
        vips = 0.0.0.0
        send_certreq = no
        local {
            auth = psk
            id = keyid:$RA_GROUP
        }
        local-xauth {
            auth = xauth
            xauth_id = $RA_USER
        }
        remote {
            auth = psk
            id = %any
        }
        children {
            ra {
                remote_ts = $RA_LAN_NET
                esp_proposals = $RA_CLI_ESP
            }
        }
    }
}
secrets {
    ike-group {
        id = keyid:$RA_GROUP
        secret = "$RA_GROUP_KEY"
    }
    xauth-user {
        id = $RA_USER
        secret = "$pw"
    }
}
EOT
    fi
    chmod 600 "$d/swanctl.conf"
}
# ra_ss_start NS DIR RUNDIR : start charon, load the configuration; sets SS_PIDFILE
ra_ss_start() {
    local ns=$1 d=$2 rundir=$3
    mkdir -p "$rundir"
    SS_PIDFILE=$rundir/charon.spawn.pid
    STRONGSWAN_CONF="$d/strongswan.conf" ra_spawn "$ns" "$rundir" "$SS_PIDFILE" "$d/charon.stdout" /usr/lib/ipsec/charon
    WAIT_S=${DAEMON_WAIT_S:-15} WAIT_STEP=0.1 wait_for test -S "$rundir/charon.vici" || return 1
    ra_swanctl "$d" --load-all --file "$d/swanctl.conf" > "$d/swanctl-load.txt" 2>&1
}
ra_swanctl() { # DIR args...
    local d=$1; shift
    STRONGSWAN_CONF="$d/strongswan.conf" timeout 30 swanctl "$@"
}
# ra_ss_keys LOG -> "ICOOKIE,KA" lines (Wireshark's ikev1_decryption_table)
# of every IKE SA charon logged at ike=4: the key from "encryption key Ka",
# the initiator cookie from the nearest NAT-D input (natd_chunk: both
# cookies, then an address and a port), which charon logs before the key
# as an initiator and after it as a responder.
ra_ss_keys() {
    awk '
    function hexbytes(want,   i, out) { out = ""
        for (i = 4; i <= NF && length(out) < 2*want; i++) if ($i ~ /^[0-9A-F][0-9A-F]$/) out = out tolower($i)
        return out }
    /natd_chunk => / { wantck = 1; ck = ""; next }
    wantck && /\[IKE\] +[0-9]+: / { ck = ck hexbytes(8 - length(ck)/2)
        if (length(ck) >= 16) { wantck = 0; nck++; ckv[nck] = ck; ckl[nck] = NR }; next }
    /encryption key Ka => / { kawant = $(NF-3); cur = ""; kal = NR; next }
    kawant > 0 && /\[IKE\] +[0-9]+: / { cur = cur hexbytes(kawant - length(cur)/2)
        if (length(cur) == 2*kawant) { kawant = 0; nka++; kav[nka] = cur; kall[nka] = kal }; next }
    END {
        for (i = 1; i <= nka; i++) {
            best = ""; bestd = -1
            for (j = 1; j <= nck; j++) { d = ckl[j] - kall[i]; if (d < 0) d = -d
                if (bestd < 0 || d < bestd) { bestd = d; best = ckv[j] } }
            if (best != "") print best "," kav[i]
        }
    }' "$1" | sort -u
}

# ------------------------------------------------------------------- vpnc
# ra_vpnc_write_conf FILE PASSWORD : vpnc's configuration (mode 0600: it holds
# the secrets); everything else stays at vpnc's defaults, except NAT-T, which
# is forced on the command line
ra_vpnc_write_conf() {
    local f=$1 pw=$2
    ( umask 077
      printf 'IPSec gateway %s\nIPSec ID %s\nIPSec secret %s\nXauth username %s\nXauth password %s\n' \
          "$RA_SRV_IP" "$RA_GROUP" "$RA_GROUP_KEY" "$RA_USER" "$pw" > "$f" )
}
# what vpnc prints when XAUTH refuses it: "authentication unsuccessful"
# after the server's XAUTH_STATUS=FAIL (strongSwan refuses at once); a
# server that asks again (IOS and ours allow 3 attempts) finds vpnc without
# a terminal unable to ask twice: it sends AUTHENTICATION-FAILED, deletes
# the SA and says "noninteractive can't reuse password"
RA_VPNC_REFUSED="authentication unsuccessful|noninteractive can't reuse password"
# ra_vpnc_record_get FILE VAR -> VAR's value in the last "connect" block
# written by lib/vpnc-script (empty if none)
ra_vpnc_record_get() {
    awk -v var="$2" '
        /^reason=connect$/ { inblk = 1; delete v; next }
        /^reason=/ { inblk = 0; next }
        inblk && index($0, var "=") == 1 { v[var] = substr($0, length(var) + 2) }
        /^--$/ && inblk { for (k in v) last[k] = v[k]; inblk = 0 }
        END { print last[var] }' "$1" 2>/dev/null
}

# ------------------------------------------------------------------ us
# The events our peer writes (events.jsonl, one compact JSON object a
# line; peer/README.md, "Remote access", lists them with their fields).
# These patterns are the one place the cells name them.
RA_EV_READY=${RA_EV_READY:-'"event":"ready"'}
RA_EV_UP=${RA_EV_UP:-'"event":"phase2_up"'}
RA_EV_CFG=${RA_EV_CFG:-'"event":"mode_cfg_received"'}
RA_EV_AUTH_FAIL=${RA_EV_AUTH_FAIL:-'"event":"xauth_failed"'}
# jget VAR FIELD JSON: VAR = the (string or number) field of a JSON line
jget() { local re="\"$2\":(\"([^\"]*)\"|([^,}]*))"; if [[ $3 =~ $re ]]; then printf -v "$1" '%s' "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"; else printf -v "$1" ''; fi; }
# jlist VAR FIELD JSON: VAR = the JSON array FIELD as space-separated strings
jlist() { local re="\"$2\":\\[([^]]*)\\]"; if [[ $3 =~ $re ]]; then local s=${BASH_REMATCH[1]//\"/}; printf -v "$1" '%s' "${s//,/ }"; else printf -v "$1" ''; fi; }
ev_grep() { grep -E "$2" "$1" 2>/dev/null; }           # EVENTS_FILE REGEX
ev_has() { grep -qE "$2" "$1" 2>/dev/null; }

# ra_us_check_binary server|client : fail loudly (message on stderr, exit
# status 1) when $IKEV1_PEER lacks what the cells need
ra_us_check_binary() {
    local what=$1 help h
    [ -x "${IKEV1_PEER:-}" ] || { echo "!!! RA INTEROP: IKEV1_PEER='${IKEV1_PEER:-}' is not an executable" >&2; return 1; }
    case "$what" in
    server)
        help=$("$IKEV1_PEER" --help 2>&1 || true)
        [[ $help == *--users* ]] || { echo "!!! RA INTEROP: $IKEV1_PEER has no remote-access server mode (its --help does not mention --users)" >&2; return 1; }
        h=$(printf '%s' probe | timeout 20 "$IKEV1_PEER" hash-password 2>&1 || true)
        [[ $h == '$argon2id$'* ]] || { echo "!!! RA INTEROP: '$IKEV1_PEER hash-password' did not print an argon2id PHC string (got: ${h:0:120})" >&2; return 1; } ;;
    client)
        help=$(timeout 20 "$IKEV1_PEER" client --help 2>&1) && [[ $help == *--gateway* ]] \
            || { help=${help//$'\n'/ }; echo "!!! RA INTEROP: $IKEV1_PEER has no 'client' subcommand ('client --help' failed or does not mention --gateway): ${help:0:120}" >&2; return 1; } ;;
    esac
}
# ra_assigned_summary CELL_OUT -> the address the client reported
# (assigned.txt), "?" when none
ra_assigned_summary() {
    local a
    a=$(sed -nE 's/.*"address":"([0-9.]+)".*/\1/p; s/^(PLUTO_MY_SOURCEIP|virtual_ip|INTERNAL_IP4_ADDRESS)=([0-9.]+)$/\2/p' "$1/assigned.txt" 2>/dev/null | head -n 1)
    echo "${a:-?}"
}
