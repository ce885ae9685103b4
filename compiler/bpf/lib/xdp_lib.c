/* The fixed part of the kernel fast path (docs/xdp.md, "Code generation"):
 * packet parsing, the merged lookups, the actions and the answers, compiled
 * to LLVM bitcode at build time and linked at run time with the decision
 * code the compiler generates from the policy (dnspc_k_decide) and with the
 * map references (dnspc_k_map), which only exist once the runtime has
 * created the maps. Everything here is inlined into one XDP function.
 *
 * The verdict contract with user space: a UDP query to an accelerated
 * listener either ends here (dropped or answered) or goes up with the DNS
 * header's Z bit saying whether this program evaluated it (Z=1: no prefix
 * rule and no block holds, user space starts after the prefix) or not
 * (Z=0: user space evaluates from the first rule). Z is reserved and zero
 * in every query (RFC 1035 4.1.1), so setting or clearing it loses nothing.
 * An evaluated query also carries the process's seal (kernel_seal.h), eight
 * random bytes appended to the message: a Z bit without it is the client's
 * (the query did not pass here), and user space evaluates it whole. User
 * space removes the seal and the bit before the query goes anywhere. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "dnspc/kernel_abi.h"

#define INLINE static __attribute__((always_inline)) inline
/* Called by the generated decision code, so they keep their names until linked. */
#define EXPORTED __attribute__((always_inline))

/* Defined by the generated module. */
extern void *dnspc_k_map(uint32_t id);
extern uint32_t dnspc_k_decide(struct dnspc_k_view *v);

#define MAP(id) dnspc_k_map(DNSPC_K_MAP_##id)

#define DNS_HEADER 12
#define FLAG_QR 0x8000
#define FLAG_TC 0x0200
#define FLAG_RD 0x0100
#define FLAG_RA 0x0080
#define FLAG_Z 0x0040
#define FLAG_CD 0x0010
#define OPCODE_MASK 0x7800
#define TYPE_OPT 41
#define OWN_EDNS_PAYLOAD 1232
#define OPT_SIZE 11
#define VLAN_HLEN 4

enum { SEEN_NOT_OURS = -1 };

INLINE void count(uint32_t counter) {
  uint64_t *c = bpf_map_lookup_elem(MAP(COUNTERS), &counter);
  if (c) *c += 1;
}

INLINE uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

/* ------------------------------------------------------------ checksums */

INLINE uint16_t fold(uint64_t sum) {
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

/* RFC 1624: the checksum after one 16-bit word changed from `from` to `to`. */
INLINE uint16_t checksum_replace(uint16_t check, uint16_t from, uint16_t to) {
  uint64_t sum = (uint16_t)~check;
  sum += (uint16_t)~from;
  sum += to;
  return (uint16_t)~fold(sum);
}

/* ------------------------------------------------------------ the packet */

struct packet {
  void *data, *end;
  struct ethhdr *eth;
  struct iphdr *ip4;
  struct ipv6hdr *ip6;
  struct udphdr *udp;
  uint8_t *dns;
  uint32_t dns_len; /* from the UDP header */
  uint32_t l3;      /* offsets of the IP and UDP headers */
  uint32_t l4;
};

/* Finds the UDP header of a packet to one of our listeners. Returns 1 when
 * found, 0 when the packet is not ours (another address, port or protocol),
 * -1 when it is ours but cannot be read here (IP options, fragments,
 * extension headers): those go up with Z cleared when their DNS header can
 * be reached, and are dropped when a first fragment hides it. */
INLINE int find_udp(struct packet *p, struct dnspc_k_view *v) {
  uint8_t *cursor = p->data;
  struct ethhdr *eth = p->data;
  if ((void *)(eth + 1) > p->end) return 0;
  p->eth = eth;
  uint16_t proto = eth->h_proto;
  cursor += sizeof(*eth);
  if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
    if ((void *)(cursor + VLAN_HLEN) > p->end) return 0;
    proto = *(uint16_t *)(cursor + 2);
    cursor += VLAN_HLEN;
  }
  struct dnspc_k_listener key = {};
  int readable = 1;
  if (proto == bpf_htons(ETH_P_IP)) {
    struct iphdr *ip = (struct iphdr *)cursor;
    if ((void *)(ip + 1) > p->end) return 0;
    if (ip->protocol != IPPROTO_UDP) return 0;
    if (ip->ihl != 5) readable = 0;
    uint16_t frag = bpf_ntohs(ip->frag_off);
    if (frag & 0x1fff) return 0; /* a later fragment: no header to read or mark */
    if (frag & 0x2000) readable = 0;
    p->ip4 = ip;
    p->l3 = cursor - (uint8_t *)p->data;
    key.family = 4;
    __builtin_memcpy(key.addr, &ip->daddr, 4);
    v->family = 4;
    __builtin_memset(v->source, 0, 16);
    __builtin_memset(v->destination, 0, 16);
    __builtin_memcpy(v->source, &ip->saddr, 4);
    __builtin_memcpy(v->destination, &ip->daddr, 4);
    cursor += (uint32_t)ip->ihl * 4;
    if (ip->ihl < 5) return 0;
  } else if (proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr *ip = (struct ipv6hdr *)cursor;
    if ((void *)(ip + 1) > p->end) return 0;
    if (ip->nexthdr != IPPROTO_UDP) return 0; /* extension headers are not walked: not ours */
    p->ip6 = ip;
    p->l3 = cursor - (uint8_t *)p->data;
    key.family = 6;
    __builtin_memcpy(key.addr, &ip->daddr, 16);
    v->family = 6;
    __builtin_memcpy(v->source, &ip->saddr, 16);
    __builtin_memcpy(v->destination, &ip->daddr, 16);
    cursor += sizeof(*ip);
  } else {
    return 0;
  }
  struct udphdr *udp = (struct udphdr *)cursor;
  if ((void *)(udp + 1) > p->end) return 0;
  key.port = udp->dest;
  if (!bpf_map_lookup_elem(MAP(LISTENERS), &key)) {
    /* A listener on the wildcard address: user space sees the listener's
     * address as the destination, so the rules here do too. */
    __builtin_memset(key.addr, 0, 16);
    if (!bpf_map_lookup_elem(MAP(LISTENERS), &key)) return 0;
    __builtin_memset(v->destination, 0, 16);
  }
  p->udp = udp;
  p->l4 = (uint8_t *)udp - (uint8_t *)p->data;
  p->dns = (uint8_t *)(udp + 1);
  uint32_t udp_len = bpf_ntohs(udp->len);
  p->dns_len = udp_len >= sizeof(*udp) ? udp_len - sizeof(*udp) : 0;
  return readable ? 1 : -1;
}

/* Sets or clears the Z bit, keeping the UDP checksum right. Returns 0 when
 * the DNS header cannot be reached. */
INLINE int mark_evaluated(struct packet *p, int evaluated) {
  uint8_t *dns = p->dns;
  if ((void *)(dns + DNS_HEADER) > p->end) return 0;
  uint16_t old_flags = *(uint16_t *)(dns + 2);
  uint16_t host = bpf_ntohs(old_flags);
  host = evaluated ? (host | FLAG_Z) : (host & ~FLAG_Z);
  uint16_t new_flags = bpf_htons(host);
  if (new_flags == old_flags) return 1;
  *(uint16_t *)(dns + 2) = new_flags;
  if (p->udp->check) {
    uint16_t check = checksum_replace(p->udp->check, old_flags, new_flags);
    p->udp->check = check ? check : 0xffff; /* 0 would mean "no checksum" */
  }
  return 1;
}

/* The packet's pointers again, after a helper that may move the data
 * (bpf_xdp_adjust_tail) made the verifier forget them. Returns 0 when the
 * UDP or DNS header is no longer there. */
INLINE int find_again(struct xdp_md *ctx, struct packet *p) {
  uint32_t l3 = p->l3 & 0x3f; /* at most Ethernet and one VLAN tag */
  uint32_t l4 = p->l4 & 0x7f; /* IPv4 without options, or IPv6 */
  p->data = (void *)(long)ctx->data;
  p->end = (void *)(long)ctx->data_end;
  uint8_t *ip = (uint8_t *)p->data + l3;
  struct udphdr *udp = (struct udphdr *)((uint8_t *)p->data + l4);
  if ((void *)(udp + 1) > p->end || (void *)(ip + sizeof(struct ipv6hdr)) > p->end) return 0;
  if (p->ip4) p->ip4 = (struct iphdr *)ip;
  if (p->ip6) p->ip6 = (struct ipv6hdr *)ip;
  p->udp = udp;
  p->dns = (uint8_t *)(udp + 1);
  return 1;
}

/* Seals a query this program evaluated without a decision: sets Z and
 * appends the seal, keeping the IP and UDP lengths and checksums right.
 * Returns 0 when it has bytes past its UDP message (Ethernet padding) or no
 * room to grow: it then goes up with Z clear, unevaluated. */
INLINE int seal_evaluated(struct xdp_md *ctx, struct packet *p, const struct dnspc_k_config *config) {
  uint32_t udp_len = (p->dns_len + sizeof(struct udphdr)) & 0xfff;
  if ((uint8_t *)p->end - (uint8_t *)p->data != (p->l4 & 0x7f) + udp_len) {
    mark_evaluated(p, 0);
    return 0;
  }
  if (bpf_xdp_adjust_tail(ctx, DNSPC_K_SEAL_SIZE)) {
    if (find_again(ctx, p)) mark_evaluated(p, 0);
    return 0;
  }
  if (!find_again(ctx, p) || !mark_evaluated(p, 1)) return 0;
  uint8_t *seal = (uint8_t *)p->udp + udp_len;
  if ((void *)(seal + DNSPC_K_SEAL_SIZE) > p->end) return 0;
  /* The sum of the seal's bytes where they sit (RFC 1071: at an odd offset
   * the first pairs with the message's last byte) and of the two length
   * fields the UDP checksum covers, each 8 more. */
  uint64_t added = 2 * DNSPC_K_SEAL_SIZE;
  const uint8_t *s = config->seal;
  if (udp_len & 1) {
    added += s[0] + (s[1] << 8 | s[2]) + (s[3] << 8 | s[4]) + (s[5] << 8 | s[6]) + (s[7] << 8);
  } else {
    added += (s[0] << 8 | s[1]) + (s[2] << 8 | s[3]) + (s[4] << 8 | s[5]) + (s[6] << 8 | s[7]);
  }
  __builtin_memcpy(seal, s, DNSPC_K_SEAL_SIZE);
  uint16_t new_len = bpf_htons(udp_len + DNSPC_K_SEAL_SIZE);
  p->udp->len = new_len;
  if (p->udp->check) {
    uint16_t check = (uint16_t)~fold((uint16_t)~bpf_ntohs(p->udp->check) + added);
    p->udp->check = bpf_htons(check ? check : 0xffff);
  }
  if (p->ip4) {
    struct iphdr *ip = p->ip4;
    uint16_t old_total = ip->tot_len;
    uint16_t new_total = bpf_htons(bpf_ntohs(old_total) + DNSPC_K_SEAL_SIZE);
    ip->tot_len = new_total;
    ip->check = checksum_replace(ip->check, old_total, new_total);
  } else if (p->ip6) {
    p->ip6->payload_len = new_len;
  }
  return 1;
}

/* Loops run through bpf_loop: the verifier checks a callback once, where an
 * inlined loop would be walked once per iteration and per path, which
 * multiplies past its budget as soon as a loop carries state. */

struct name_walk {
  struct dnspc_k_view *v;
  uint8_t *name;
  void *end;
  uint32_t next_label; /* position of the next length byte */
  uint32_t labels;
  uint32_t out;
  int status; /* 0 going on, 1 done, -1 not for the kernel */
};

static long read_name_byte(uint32_t i, void *context) {
  struct name_walk *w = context;
  uint8_t *b = w->name + (i & 0xff);
  if ((void *)(b + 1) > w->end) {
    w->status = -1;
    return 1;
  }
  uint8_t c = *b;
  struct dnspc_k_view *v = w->v;
  if (i == w->next_label) {
    if (c & 0xc0) { /* compression, reserved types, over-long labels */
      w->status = -1;
      return 1;
    }
    v->name[i & 0xff] = c;
    v->label_start[i & 0xff] = 1;
    if (c == 0) {
      w->out = i + 1;
      w->status = 1;
      return 1;
    }
    w->labels++;
    w->next_label = i + 1 + c;
    return 0;
  }
  if (c == '.') {
    w->status = -1;
    return 1;
  }
  v->name[i & 0xff] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
  v->label_start[i & 0xff] = 0;
  return 0;
}

/* ------------------------------------------------------------ DNS parsing */

/* Reads the query into the view: what parse_query accepts, minus what the
 * kernel does not decide (ANCOUNT/NSCOUNT, records other than one OPT,
 * trailing bytes, a dot inside a label, EDNS versions above 0, ECS). Those
 * return 0 and go up unevaluated; user space applies the same list
 * (kernel_evaluates() in the runtime). */
INLINE int parse_dns(struct packet *p, struct dnspc_k_view *v) {
  uint8_t *dns = p->dns;
  void *end = p->end;
  if ((void *)(dns + DNS_HEADER) > end) return 0;
  uint32_t len = p->dns_len;
  if ((uint8_t *)end - dns < len) return 0; /* the UDP length promises more than arrived */
  if (len > 4096 - DNSPC_K_SEAL_SIZE || len < DNS_HEADER) return 0; /* sealed, it still fits user space's 4096 */
  uint16_t flags = get16(dns + 2);
  if (flags & FLAG_QR) return 0;
  if (get16(dns + 4) != 1 || get16(dns + 6) != 0 || get16(dns + 8) != 0) return 0;
  uint16_t arcount = get16(dns + 10);
  if (arcount > 1) return 0;
  v->flags = flags & ~FLAG_Z;
  v->opcode = (flags & OPCODE_MASK) >> 11;
  v->size = len;

  /* The question name, lower-cased, with label starts marked. */
  struct name_walk walk = {.v = v, .name = dns + DNS_HEADER, .end = end};
  bpf_loop(255, read_name_byte, &walk, 0);
  if (walk.status != 1) return 0; /* malformed, or over 255 bytes: user space says why */
  uint32_t out = walk.out & 0x1ff;
  uint32_t labels = walk.labels;
  uint32_t off = DNS_HEADER;
  v->name_length = out;
  v->label_count = labels;
  off += out;
  uint8_t *q = dns + (off & 0x1ff);
  if ((void *)(q + 4) > end || off + 4 > len) return 0;
  v->qtype = get16(q);
  v->qclass = get16(q + 2);
  off += 4;
  v->edns_present = 0;
  v->edns_do = 0;
  v->edns_version = 0;
  v->edns_payload = 0;
  if (arcount == 1) {
    /* One OPT record, owned by the root, right after the question. */
    uint8_t *o = dns + (off & 0x1ff);
    if ((void *)(o + OPT_SIZE) > end || off + OPT_SIZE > len) return 0;
    if (o[0] != 0 || get16(o + 1) != TYPE_OPT) return 0;
    if (o[6] != 0) return 0; /* EDNS version above 0: BADVERS comes from user space */
    uint32_t rdlen = get16(o + 9);
    v->edns_present = 1;
    v->edns_payload = get16(o + 3);
    v->edns_do = (o[7] & 0x80) ? 1 : 0;
    off += OPT_SIZE;
    if (off + rdlen != len) return 0;
    /* The options must tile the data exactly; ECS is not read here. */
    uint32_t at = 0;
    for (int k = 0; k < 16; k++) {
      if (at == rdlen) break;
      if (rdlen - at < 4) return 0;
      uint8_t *opt = dns + ((off + at) & 0xfff);
      if ((void *)(opt + 4) > end) return 0;
      uint16_t code = get16(opt);
      uint16_t olen = get16(opt + 2);
      if (code == 8) return 0;
      at += 4;
      if (rdlen - at < olen) return 0;
      at += olen;
    }
    if (at != rdlen) return 0;
    return 1;
  }
  return off == len;
}

/* ------------------------------------------------------------ lookups */

INLINE void take_lookup(struct dnspc_k_view *v, const struct dnspc_k_lookup *l, uint64_t *bits) {
  if (!l) return;
  if (l->min_rule < v->best) v->best = l->min_rule;
  *bits |= l->bits;
}

/* One backward pass over the name: at each label's length byte, the hash of
 * the suffix that starts there is complete and is looked up as a suffix (and
 * at the first byte also as the exact name), alone and with the qtype. */
struct name_probe {
  struct dnspc_k_view *v;
  uint64_t hash;
  uint64_t bits;
};

static long probe_suffix(uint32_t k, void *context) {
  struct name_probe *pr = context;
  struct dnspc_k_view *v = pr->v;
  uint32_t n = v->name_length;
  if (k >= n) return 1;
  uint32_t j = (n - 1 - k) & 0xff;
  pr->hash = dnspc_k_hash_byte(pr->hash, v->name[j]);
  if (!v->label_start[j]) return 0;
  struct dnspc_k_name_key key = {};
  key.hash = pr->hash;
  key.kind = DNSPC_K_NAME_SUFFIX;
  key.qtype = 0;
  const struct dnspc_k_lookup *suffix = bpf_map_lookup_elem(MAP(NAMES), &key);
  take_lookup(v, suffix, &pr->bits);
  if (suffix && suffix->regex_chain) {
    uint32_t n = v->regex_head_count;
    if (n < DNSPC_K_REGEX_CHAINS) {
      v->regex_heads[n & (DNSPC_K_REGEX_CHAINS - 1)] = suffix->regex_chain;
      v->regex_head_count = n + 1;
    } else {
      v->regex_overflow = 1;
    }
  }
  key.qtype = v->qtype + 1u;
  take_lookup(v, bpf_map_lookup_elem(MAP(NAMES), &key), &pr->bits);
  if (j == 0) {
    key.kind = DNSPC_K_NAME_EXACT;
    key.qtype = 0;
    take_lookup(v, bpf_map_lookup_elem(MAP(NAMES), &key), &pr->bits);
    key.qtype = v->qtype + 1u;
    take_lookup(v, bpf_map_lookup_elem(MAP(NAMES), &key), &pr->bits);
  }
  return 0;
}

/* One backward pass over the name: at each label's length byte, the hash of
 * the suffix that starts there is complete and is looked up as a suffix (and
 * at the first byte also as the exact name), alone and with the qtype. */
INLINE void probe_names(struct dnspc_k_view *v, const struct dnspc_k_config *config) {
  struct name_probe pr = {.v = v, .hash = config->hash_seed, .bits = 0};
  bpf_loop(255, probe_suffix, &pr, 0);
  v->name_bits = pr.bits;
}

INLINE void probe_addresses(struct dnspc_k_view *v) {
  uint64_t bits = 0;
  if (v->family == 4) {
    struct dnspc_k_lpm4 key = {.prefixlen = 32};
    __builtin_memcpy(key.addr, v->source, 4);
    take_lookup(v, bpf_map_lookup_elem(MAP(SRC4), &key), &bits);
    v->source_bits = bits;
    bits = 0;
    __builtin_memcpy(key.addr, v->destination, 4);
    take_lookup(v, bpf_map_lookup_elem(MAP(DST4), &key), &bits);
    v->destination_bits = bits;
  } else {
    struct dnspc_k_lpm6 key = {.prefixlen = 128};
    __builtin_memcpy(key.addr, v->source, 16);
    take_lookup(v, bpf_map_lookup_elem(MAP(SRC6), &key), &bits);
    v->source_bits = bits;
    bits = 0;
    __builtin_memcpy(key.addr, v->destination, 16);
    take_lookup(v, bpf_map_lookup_elem(MAP(DST6), &key), &bits);
    v->destination_bits = bits;
  }
}

/* The policy's ACL, as user space applies it before anything else. */
INLINE int acl_allows(struct dnspc_k_view *v) {
  if (v->family == 4) {
    struct dnspc_k_lpm4 key = {.prefixlen = 32};
    __builtin_memcpy(key.addr, v->source, 4);
    return bpf_map_lookup_elem(MAP(ACL4), &key) != 0;
  }
  struct dnspc_k_lpm6 key = {.prefixlen = 128};
  __builtin_memcpy(key.addr, v->source, 16);
  return bpf_map_lookup_elem(MAP(ACL6), &key) != 0;
}

INLINE const struct dnspc_k_dynblock *find_dynblock(struct dnspc_k_view *v) {
  const struct dnspc_k_dynblock *b;
  if (v->family == 4) {
    struct dnspc_k_lpm4 key = {.prefixlen = 32};
    __builtin_memcpy(key.addr, v->source, 4);
    b = bpf_map_lookup_elem(MAP(DYNBLOCK4), &key);
  } else {
    struct dnspc_k_lpm6 key = {.prefixlen = 128};
    __builtin_memcpy(key.addr, v->source, 16);
    b = bpf_map_lookup_elem(MAP(DYNBLOCK6), &key);
  }
  if (b && b->until_ns > bpf_ktime_get_ns()) return b;
  return 0;
}

/* ------------------------------------------------------------ tests the decision code calls */

/* The regex's DFA over the name's text form ("www.example.com.", "." for
 * the root): wire bytes 1.. with length bytes read as dots. */
struct regex_run {
  struct dnspc_k_view *v;
  const struct dnspc_k_regex *r;
  uint32_t state;
  uint32_t accepts;
};

static long regex_step(uint32_t i, void *context) {
  struct regex_run *run = context;
  struct dnspc_k_view *v = run->v;
  const struct dnspc_k_regex *r = run->r;
  uint32_t n = v->name_length;
  uint32_t text = n <= 1 ? 1 : n - 1;
  if (i >= text || run->state < r->sink_count) return 1;
  uint8_t c;
  if (n <= 1) {
    c = '.';
  } else {
    uint32_t w = (i + 1) & 0xff;
    c = v->label_start[w] ? '.' : v->name[w];
  }
  uint32_t index = r->base + run->state * r->class_count + r->classes[c];
  const uint32_t *t = bpf_map_lookup_elem(MAP(DFA), &index);
  if (!t) {
    run->accepts = 0;
    return 1;
  }
  run->state = *t & 0xffff;
  run->accepts = *t >> 16;
  return 0;
}

/* The regex's DFA over the name's text form ("www.example.com.", "." for
 * the root): wire bytes 1.. with length bytes read as dots. */
EXPORTED uint32_t dnspc_k_regex_match(struct dnspc_k_view *v, uint32_t regex) {
  const struct dnspc_k_regex *r = bpf_map_lookup_elem(MAP(REGEXES), &regex);
  if (!r) return 0;
  struct regex_run run = {.v = v, .r = r, .state = r->start, .accepts = r->start_accepts};
  bpf_loop(255, regex_step, &run, 0);
  return run.accepts;
}

/* The folded regex rules the name led to: each chain in rule order, up to
 * the best rule found so far; the first rule whose DFA accepts ends its
 * chain. Returns 0 when the work would pass DNSPC_K_REGEX_STEPS. */
struct chain_walk {
  struct dnspc_k_view *v;
  uint32_t chain; /* index in regex_heads */
  uint32_t node;  /* 1 + the regex rule to look at, 0: take the next chain */
};

static long chain_step(uint32_t i, void *context) {
  (void)i;
  struct chain_walk *w = context;
  struct dnspc_k_view *v = w->v;
  if (w->node == 0) {
    uint32_t c = w->chain;
    if (c >= v->regex_head_count || c >= DNSPC_K_REGEX_CHAINS) return 1;
    w->node = v->regex_heads[c & (DNSPC_K_REGEX_CHAINS - 1)];
    w->chain = c + 1;
    return 0;
  }
  uint32_t index = w->node - 1;
  const struct dnspc_k_regex_rule *r = bpf_map_lookup_elem(MAP(REGEX_RULES), &index);
  if (!r || r->rule >= v->best) {  /* the rest of the chain comes later still */
    w->node = 0;
    return 0;
  }
  if (dnspc_k_regex_match(v, r->regex)) {
    v->best = r->rule;
    w->node = 0;
    return 0;
  }
  w->node = r->next;
  return 0;
}

INLINE int run_regex_chains(struct dnspc_k_view *v) {
  if (v->regex_head_count == 0) return 1;
  struct chain_walk w = {.v = v, .chain = 0, .node = 0};
  bpf_loop(DNSPC_K_REGEX_STEPS, chain_step, &w, 0);
  return w.node == 0 && w.chain >= v->regex_head_count;
}

/* GCRA, as RateLimiter::try_take: returns 1 when the traffic is over the
 * bound (the test holds), else takes a token and returns 0. */
INLINE uint32_t take_token(uint64_t *tat_p, uint64_t now, uint64_t interval, uint64_t tolerance) {
  for (int attempt = 0; attempt < 8; attempt++) {
    uint64_t tat = *tat_p;
    uint64_t start = tat > now ? tat : now;
    if (start - now > tolerance) return 1;
    uint64_t next = interval == ~0ull ? ~0ull : start + interval;
    if (__sync_val_compare_and_swap(tat_p, tat, next) == tat) return 0;
  }
  return 1; /* lost every race: count it as over the bound, as a busy bucket is */
}

EXPORTED uint32_t dnspc_k_rate_over(struct dnspc_k_view *v, uint32_t limiter,
                                                        uint64_t interval, uint64_t tolerance) {
  uint64_t *tat = bpf_map_lookup_elem(MAP(RATES), &limiter);
  if (!tat) return 0;
  return take_token(tat, v->now_ns, interval, tolerance);
}

EXPORTED uint32_t dnspc_k_source_rate_over(struct dnspc_k_view *v, uint32_t limiter,
                                                               uint64_t interval, uint64_t tolerance,
                                                               uint32_t v4_prefix, uint32_t v6_prefix) {
  struct dnspc_k_source_rate_key key = {};
  key.limiter = limiter;
  key.family = v->family;
  uint32_t bits = v->family == 4 ? v4_prefix : v6_prefix;
  for (uint32_t i = 0; i < 16; i++) {
    uint32_t have = i * 8;
    uint8_t mask = bits >= have + 8 ? 0xff : bits > have ? (uint8_t)(0xff << (8 - (bits - have))) : 0;
    key.addr[i] = v->source[i] & mask;
  }
  uint64_t *tat = bpf_map_lookup_elem(MAP(SOURCE_RATES), &key);
  if (!tat) {
    uint64_t fresh = 0;
    bpf_map_update_elem(MAP(SOURCE_RATES), &key, &fresh, BPF_NOEXIST);
    tat = bpf_map_lookup_elem(MAP(SOURCE_RATES), &key);
    if (!tat) return 0;
  }
  return take_token(tat, v->now_ns, interval, tolerance);
}

/* next_random of decision_state.h: xorshift64 on this CPU's state. */
EXPORTED uint64_t dnspc_k_random(struct dnspc_k_view *v) {
  (void)v;
  uint32_t zero = 0;
  uint64_t *s = bpf_map_lookup_elem(MAP(RANDOM), &zero);
  if (!s) return 0;
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

/* ------------------------------------------------------------ answers */

struct word_sum {
  const uint8_t *from;
  void *end;
  uint32_t len;
  uint64_t sum;
};

static long add_word(uint32_t k, void *context) {
  struct word_sum *ws = context;
  uint32_t i = k * 2;
  if (i >= ws->len) return 1;
  const uint8_t *b = ws->from + (i & 0x7ff);
  if ((void *)(b + 1) > ws->end) return 1;
  uint32_t hi = b[0];
  uint32_t lo = 0;
  if (i + 1 < ws->len) {
    if ((void *)(b + 2) > ws->end) return 1;
    lo = b[1];
  }
  ws->sum += (hi << 8) | lo;
  return 0;
}

INLINE uint16_t sum_words(const uint8_t *from, void *end, uint32_t len, uint64_t sum) {
  struct word_sum ws = {.from = from, .end = end, .len = len, .sum = sum};
  bpf_loop(1024, add_word, &ws, 0);
  return fold(ws.sum);
}

/* Rewrites the query in place into the answer user space would build
 * (build_rcode_answer / build_truncated_answer) and turns the packet
 * around. Returns XDP_TX, or XDP_PASS with nothing changed when it cannot. */
INLINE int answer(struct xdp_md *ctx, struct packet *p, struct dnspc_k_view *v, uint8_t rcode, int truncated) {
  uint32_t question_end = DNS_HEADER + v->name_length + 4;
  uint32_t dns_len = question_end + (v->edns_present ? OPT_SIZE : 0);
  int32_t delta = (int32_t)dns_len - (int32_t)p->dns_len;
  uint32_t l3 = p->l3 & 0x3f; /* at most Ethernet and one VLAN tag */
  uint32_t l4 = p->l4 & 0x7f; /* IPv4 without options, or IPv6 */
  if (delta > 0) return XDP_PASS;
  if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta)) return XDP_PASS;
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return XDP_DROP; /* adjust_tail succeeded: nothing sane to send */
  uint8_t mac[ETH_ALEN];
  __builtin_memcpy(mac, eth->h_source, ETH_ALEN);
  __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
  __builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
  struct udphdr *udp = (struct udphdr *)((uint8_t *)data + l4);
  if ((void *)(udp + 1) > end) return XDP_DROP;
  uint8_t *dns = (uint8_t *)(udp + 1);
  if ((void *)(dns + DNS_HEADER) > end) return XDP_DROP;

  uint16_t flags = v->flags;
  uint16_t out = (flags & (OPCODE_MASK | FLAG_RD | FLAG_CD)) | FLAG_QR | ((flags & FLAG_RD) ? FLAG_RA : 0) |
                 (rcode & 0xf) | (truncated ? FLAG_TC : 0);
  *(uint16_t *)(dns + 2) = bpf_htons(out);
  *(uint16_t *)(dns + 4) = bpf_htons(1);
  *(uint16_t *)(dns + 6) = 0;
  *(uint16_t *)(dns + 8) = 0;
  *(uint16_t *)(dns + 10) = bpf_htons(v->edns_present ? 1 : 0);
  if (v->edns_present) {
    uint8_t *o = dns + (question_end & 0x1ff);
    if ((void *)(o + OPT_SIZE) > end) return XDP_DROP; /* rewritten already: nothing sane to send */
    o[0] = 0;
    o[1] = 0;
    o[2] = TYPE_OPT;
    o[3] = OWN_EDNS_PAYLOAD >> 8;
    o[4] = OWN_EDNS_PAYLOAD & 0xff;
    o[5] = 0;
    o[6] = 0;
    o[7] = v->edns_do ? 0x80 : 0;
    o[8] = 0;
    o[9] = 0;
    o[10] = 0;
  }

  /* Turn the packet around. */
  uint16_t port = udp->source;
  udp->source = udp->dest;
  udp->dest = port;
  uint32_t udp_len = dns_len + sizeof(struct udphdr);
  udp->len = bpf_htons(udp_len);
  udp->check = 0;
  uint64_t pseudo = 0;
  if (v->family == 4) {
    struct iphdr *ip = (struct iphdr *)((uint8_t *)data + l3);
    if ((void *)(ip + 1) > end) return XDP_DROP;
    uint32_t a = ip->saddr;
    ip->saddr = ip->daddr;
    ip->daddr = a;
    ip->tot_len = bpf_htons(udp_len + sizeof(struct iphdr));
    ip->ttl = 64;
    ip->check = 0;
    uint64_t s = 0;
    uint16_t *w = (uint16_t *)ip;
    for (int i = 0; i < 10; i++) s += bpf_ntohs(w[i]);
    ip->check = bpf_htons((uint16_t)~fold(s));
    const uint8_t *sa = (const uint8_t *)&ip->saddr;
    const uint8_t *da = (const uint8_t *)&ip->daddr;
    pseudo += (sa[0] << 8 | sa[1]) + (sa[2] << 8 | sa[3]) + (da[0] << 8 | da[1]) + (da[2] << 8 | da[3]);
  } else {
    struct ipv6hdr *ip = (struct ipv6hdr *)((uint8_t *)data + l3);
    if ((void *)(ip + 1) > end) return XDP_DROP;
    struct in6_addr a = ip->saddr;
    ip->saddr = ip->daddr;
    ip->daddr = a;
    ip->payload_len = bpf_htons(udp_len);
    ip->hop_limit = 64;
    const uint16_t *sa = (const uint16_t *)&ip->saddr;
    const uint16_t *da = (const uint16_t *)&ip->daddr;
    for (int i = 0; i < 8; i++) pseudo += bpf_ntohs(sa[i]) + bpf_ntohs(da[i]);
  }
  pseudo += IPPROTO_UDP + udp_len;
  uint16_t sum = sum_words((const uint8_t *)udp, end, udp_len, pseudo);
  uint16_t check = (uint16_t)~sum;
  udp->check = bpf_htons(check ? check : 0xffff);
  return XDP_TX;
}

INLINE int act(struct xdp_md *ctx, struct packet *p, struct dnspc_k_view *v, uint8_t kind, uint8_t rcode) {
  switch (kind) {
    case DNSPC_K_DROP:
      count(DNSPC_K_ACTION_DROP);
      return XDP_DROP;
    case DNSPC_K_REFUSE:
      count(DNSPC_K_ACTION_REFUSE);
      return answer(ctx, p, v, 5, 0);
    case DNSPC_K_RCODE:
      count(DNSPC_K_ACTION_RCODE);
      return answer(ctx, p, v, rcode, 0);
    case DNSPC_K_TRUNCATE:
      count(DNSPC_K_ACTION_TRUNCATE);
      return answer(ctx, p, v, 0, 1);
  }
  return XDP_DROP;
}

/* ------------------------------------------------------------ the program */

SEC("xdp") int dnspc_xdp(struct xdp_md *ctx) {
  struct packet p = {};
  p.data = (void *)(long)ctx->data;
  p.end = (void *)(long)ctx->data_end;
  uint32_t zero = 0;
  struct dnspc_k_view *v = bpf_map_lookup_elem(MAP(SCRATCH), &zero);
  const struct dnspc_k_config *config = bpf_map_lookup_elem(MAP(CONFIG), &zero);
  if (!v || !config) return XDP_PASS;

  int found = find_udp(&p, v);
  if (found == 0) return XDP_PASS;
  count(DNSPC_K_SEEN);
  if (found < 0 || !acl_allows(v) || !parse_dns(&p, v)) {
    count(DNSPC_K_UNPARSED);
    if (!mark_evaluated(&p, 0)) return XDP_DROP; /* a first fragment hiding the DNS header */
    return XDP_PASS;
  }
  v->now_ns = config->now_override ? config->now_override : bpf_ktime_get_ns();

  const struct dnspc_k_dynblock *block = find_dynblock(v);
  if (block) {
    count(DNSPC_K_DYNBLOCKED);
    return act(ctx, &p, v, block->kind, block->rcode);
  }

  v->best = config->prefix_rules;
  v->name_bits = v->source_bits = v->destination_bits = 0;
  v->regex_head_count = 0;
  v->regex_overflow = 0;
  probe_names(v, config);
  probe_addresses(v);
  if (v->regex_overflow || !run_regex_chains(v)) {
    /* More regex work than the kernel does per packet: user space decides. */
    count(DNSPC_K_UNPARSED);
    mark_evaluated(&p, 0);
    return XDP_PASS;
  }
  uint32_t rule = dnspc_k_decide(v);
  if (rule >= config->prefix_rules) {
    count(DNSPC_K_PASSED);
    if (!seal_evaluated(ctx, &p, config)) count(DNSPC_K_UNSEALED);
    return XDP_PASS;
  }
  uint64_t *hits = bpf_map_lookup_elem(MAP(RULE_HITS), &rule);
  if (hits) *hits += 1;
  const struct dnspc_k_action *a = bpf_map_lookup_elem(MAP(ACTIONS), &rule);
  if (!a) return XDP_DROP;
  return act(ctx, &p, v, a->kind, a->rcode);
}

char LICENSE[] SEC("license") = "GPL";
