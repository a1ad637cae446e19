#!/usr/bin/env python3
"""Compare isakmp-dump --json with tshark's dissection, field by field.

usage: tshark-compare.py DUMP_BINARY CAPTURE [CAPTURE...]

For every ISAKMP message of each capture, the header fields (cookies, next
payload, version, exchange type, flags, message ID, length) and every
payload's type, length and body fields (SA DOI/situation, proposals:
number, protocol, SPI size, transform count; transforms: number, ID;
attributes: type and value; KE, NONCE, HASH, VID, NAT-D data; ID type,
protocol, port, address; CERT/CR encoding; notification fields; encrypted
ciphertext length) are extracted from `tshark -T pdml` and from the tool's JSON
and compared. Prints one line per mismatch and a summary; exits 1 on any
mismatch. Needs tshark on PATH.
"""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET


def hexval(v):
    return (v or "").replace(":", "").lower()


def kids(field):
    return [c for c in field if c.tag == "field"]


def first(field, name):
    for c in kids(field):
        if c.get("name") == name:
            return c
    return None


def tshark_attrs(tr):
    out = []
    for a in kids(tr):
        if a.get("name") not in ("isakmp.ike.attr", "isakmp.ipsec.attr"):
            continue
        typ = val = None
        for c in kids(a):
            n = c.get("name")
            if n.endswith(".attr.type"):
                typ = int(c.get("value"), 16) & 0x7FFF
            elif n.endswith(".attr.value"):
                raw = hexval(c.get("value"))
                val = int(raw, 16) if raw and len(raw) <= 16 else raw
        out.append({"type": typ, "value": val})
    return out


def tshark_payload(p):
    d = {"type": int(p.get("show")), "length": int(first(p, "isakmp.payloadlength").get("show"))}
    t = d["type"]
    if t == 1:
        d["doi"] = int(first(p, "isakmp.sa.doi").get("show"))
        d["situation"] = int(hexval(first(p, "isakmp.sa.situation").get("value")), 16)
        props = []
        for pr in kids(p):
            if pr.get("name") != "isakmp.typepayload" or pr.get("show") != "2":
                continue
            spi = first(pr, "isakmp.spi")
            trs = []
            for tr in kids(pr):
                if tr.get("name") != "isakmp.typepayload" or tr.get("show") != "3":
                    continue
                trs.append({
                    "number": int(first(tr, "isakmp.trans.number").get("show")),
                    "id": int(first(tr, "isakmp.trans.id").get("show")),
                    "attributes": tshark_attrs(tr),
                })
            props.append({
                "number": int(first(pr, "isakmp.prop.number").get("show")),
                "protocol": int(first(pr, "isakmp.prop.protoid").get("show")),
                "spi_size": int(first(pr, "isakmp.spisize").get("show")),
                "spi": hexval(spi.get("value")) if spi is not None else "",
                "transforms_count": int(first(pr, "isakmp.prop.transforms").get("show")),
                "transforms": trs,
            })
        d["proposals"] = props
    for name, key in [
        ("isakmp.key_exchange.data", "data"),
        ("isakmp.nonce", "data"),
        ("isakmp.hash", "data"),
        ("isakmp.vid_bytes", "data"),
        ("isakmp.nat_d", "hash"),
        ("isakmp.signature", "data"),
    ]:
        f = first(p, name)
        if f is not None:
            d[key] = hexval(f.get("value"))
    if t == 5:
        d["id_type"] = int(first(p, "isakmp.id.type").get("show"))
        d["protocol"] = int(first(p, "isakmp.id.protoid").get("show"))
        d["port"] = int(first(p, "isakmp.id.port").get("show"))
        data = first(p, "isakmp.id.data")
        if data is not None:
            a = first(data, "isakmp.id.data.ipv4_addr")
            if a is not None:
                d["address"] = a.get("show")
    if t in (6, 7):
        for name in ("isakmp.cert.encoding", "isakmp.certreq.type"):
            f = first(p, name)
            if f is not None:
                d["encoding"] = int(f.get("show"))
    if t == 11:
        d["doi"] = int(first(p, "isakmp.notify.doi").get("show"))
        d["protocol"] = int(first(p, "isakmp.notify.protoid").get("show"))
        d["notify_type"] = int(first(p, "isakmp.notify.msgtype").get("show"))
    return d


def tshark_messages(cap):
    xml = subprocess.run(["tshark", "-r", cap, "-T", "pdml"], capture_output=True, check=True).stdout
    root = ET.fromstring(xml)
    out = []
    for pkt in root.iter("packet"):
        frame = None
        for proto in pkt.iter("proto"):
            if proto.get("name") == "frame":
                frame = int(first(proto, "frame.number").get("show"))
            if proto.get("name") != "isakmp":
                continue
            h = {
                "frame": frame,
                "icookie": hexval(first(proto, "isakmp.ispi").get("value")),
                "rcookie": hexval(first(proto, "isakmp.rspi").get("value")),
                "next_payload": int(first(proto, "isakmp.nextpayload").get("show")),
                "exchange": int(first(proto, "isakmp.exchangetype").get("show")),
                "flags": int(first(proto, "isakmp.flags").get("value"), 16),
                "message_id": int(first(proto, "isakmp.messageid").get("value"), 16),
                "length": int(first(proto, "isakmp.length").get("show")),
            }
            v = first(proto, "isakmp.version").get("value")
            h["version"] = "%d.%d" % (int(v, 16) >> 4, int(v, 16) & 15)
            enc = first(proto, "isakmp.enc.data")
            if enc is not None:
                # tshark leaves the bytes out of PDML; it gives their size.
                h["ciphertext_length"] = int(enc.get("size"))
                h["payloads"] = []
            else:
                h["payloads"] = [tshark_payload(p) for p in kids(proto) if p.get("name") == "isakmp.typepayload"]
            out.append(h)
    return out


def ours(dump, cap):
    out = subprocess.run([dump, "--json", cap], capture_output=True, check=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def compare(path, t, o, problems, counter):
    if isinstance(t, dict):
        for k, v in t.items():
            if k not in o:
                problems.append(f"{path}.{k}: tshark {v!r}, ours missing")
                continue
            compare(f"{path}.{k}", v, o[k], problems, counter)
    elif isinstance(t, list):
        if len(t) != len(o):
            problems.append(f"{path}: tshark {len(t)} items, ours {len(o)}")
        for i, (a, b) in enumerate(zip(t, o)):
            compare(f"{path}[{i}]", a, b, problems, counter)
    else:
        counter[0] += 1
        if t != o:
            problems.append(f"{path}: tshark {t!r}, ours {o!r}")


def main():
    dump, caps = sys.argv[1], sys.argv[2:]
    bad = 0
    for cap in caps:
        ts, us = tshark_messages(cap), ours(dump, cap)
        problems, counter = [], [0]
        if len(ts) != len(us):
            problems.append(f"message count: tshark {len(ts)}, ours {len(us)}")
        for t, o in zip(ts, us):
            compare(f"frame {t['frame']}", t, o, problems, counter)
        for p in problems:
            print(f"{cap}: {p}")
        print(f"{cap}: {len(ts)} messages, {counter[0]} fields compared, {len(problems)} mismatches")
        bad += len(problems)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
