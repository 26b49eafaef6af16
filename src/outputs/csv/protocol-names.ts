// IP protocol number → name, for the `proto` column with protocol_names and for `proto_name`.
// The names are netbase's /etc/protocols (IANA "Keyword" column in lower case, with the
// customary spellings tcpdump and ss print), so analysts see the words their other tools show.
// 0 is deliberately absent: in flow records it nearly always means "not reported", and
// printing "hopopt" for it would mislead. Unknown numbers stay numbers.

const NAMES: ReadonlyArray<readonly [number, string]> = [
  [1, 'icmp'], [2, 'igmp'], [3, 'ggp'], [4, 'ipencap'], [5, 'st'], [6, 'tcp'], [8, 'egp'], [9, 'igp'],
  [12, 'pup'], [17, 'udp'], [20, 'hmp'], [22, 'xns-idp'], [27, 'rdp'], [29, 'iso-tp4'], [33, 'dccp'],
  [36, 'xtp'], [37, 'ddp'], [38, 'idpr-cmtp'], [41, 'ipv6'], [43, 'ipv6-route'], [44, 'ipv6-frag'],
  [45, 'idrp'], [46, 'rsvp'], [47, 'gre'], [50, 'esp'], [51, 'ah'], [57, 'skip'], [58, 'ipv6-icmp'],
  [59, 'ipv6-nonxt'], [60, 'ipv6-opts'], [73, 'rspf'], [81, 'vmtp'], [88, 'eigrp'], [89, 'ospf'],
  [93, 'ax.25'], [94, 'ipip'], [97, 'etherip'], [98, 'encap'], [103, 'pim'], [108, 'ipcomp'],
  [112, 'vrrp'], [115, 'l2tp'], [124, 'isis'], [132, 'sctp'], [133, 'fc'], [135, 'mobility-header'],
  [136, 'udplite'], [137, 'mpls-in-ip'], [138, 'manet'], [139, 'hip'], [140, 'shim6'], [141, 'wesp'],
  [142, 'rohc'], [143, 'ethernet'],
];

// A dense 256-entry table: one array load per record instead of a Map lookup.
const TABLE: ReadonlyArray<string | number> = Array.from({ length: 256 }, (_, n) => n).map((n) => {
  const hit = NAMES.find(([p]) => p === n);
  return hit ? hit[1] : n;
});

/** The protocol's name, or the number itself when it has none. */
export function protocolName(proto: number): string | number {
  return proto >= 0 && proto < 256 ? TABLE[proto] : proto;
}
