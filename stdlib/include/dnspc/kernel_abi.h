/* The contract between the kernel fast path's three parts (docs/xdp.md):
 * the BPF library compiled to bitcode at build time (compiler/kernel/bpf),
 * the compiler that fills its maps and generates its decision code, and the
 * runtime that creates the maps, loads the program and reads its counters.
 * Plain C so that clang's BPF target and g++ read the same layout. */
#ifndef DNSPC_KERNEL_ABI_H
#define DNSPC_KERNEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
namespace dnspc::kernel {
#endif

/* Every map the program uses, by index; the program refers to a map by the
 * file descriptor the runtime created for it, baked in at code generation. */
enum dnspc_k_map {
  DNSPC_K_MAP_CONFIG = 0,    /* array[1] of dnspc_k_config */
  DNSPC_K_MAP_SCRATCH,       /* per-CPU array[1] of dnspc_k_view: the packet's facts */
  DNSPC_K_MAP_NAMES,         /* hash: dnspc_k_name_key -> dnspc_k_lookup */
  DNSPC_K_MAP_SRC4,          /* LPM trie: dnspc_k_lpm4 -> dnspc_k_lookup */
  DNSPC_K_MAP_SRC6,          /* LPM trie: dnspc_k_lpm6 -> dnspc_k_lookup */
  DNSPC_K_MAP_DST4,
  DNSPC_K_MAP_DST6,
  DNSPC_K_MAP_ACTIONS,       /* array[prefix rules]: dnspc_k_action */
  DNSPC_K_MAP_RULE_HITS,     /* per-CPU array[prefix rules]: uint64_t */
  DNSPC_K_MAP_COUNTERS,      /* per-CPU array[DNSPC_K_COUNTER_COUNT]: uint64_t */
  DNSPC_K_MAP_DFA,           /* array: uint32_t transitions of every regex, see dnspc_k_regex */
  DNSPC_K_MAP_REGEXES,       /* array: dnspc_k_regex */
  DNSPC_K_MAP_RATES,         /* array[limiters]: uint64_t GCRA theoretical arrival time */
  DNSPC_K_MAP_SOURCE_RATES,  /* LRU hash: dnspc_k_source_rate_key -> uint64_t */
  DNSPC_K_MAP_RANDOM,        /* per-CPU array[1]: uint64_t xorshift64 state */
  DNSPC_K_MAP_DYNBLOCK4,     /* LPM trie: dnspc_k_lpm4 -> dnspc_k_dynblock */
  DNSPC_K_MAP_DYNBLOCK6,     /* LPM trie: dnspc_k_lpm6 -> dnspc_k_dynblock */
  DNSPC_K_MAP_LISTENERS,     /* hash: dnspc_k_listener -> uint32_t (1) */
  DNSPC_K_MAP_ACL4,          /* LPM trie: dnspc_k_lpm4 -> uint32_t (1): sources the ACL allows */
  DNSPC_K_MAP_ACL6,
  DNSPC_K_MAP_REGEX_RULES,   /* array: dnspc_k_regex_rule, the chains of folded regex rules */
  DNSPC_K_MAP_COUNT
};

/* The packet-level counters, beside the per-rule hits. */
enum dnspc_k_counter {
  DNSPC_K_SEEN = 0,         /* UDP packets to an accelerated listener */
  DNSPC_K_PASSED,           /* parsed, no prefix rule or block decided: user space goes on */
  DNSPC_K_UNPARSED,         /* passed up whole: user space evaluates from rule 0 */
  DNSPC_K_DYNBLOCKED,       /* decided by a dynamic block */
  DNSPC_K_ACTION_DROP,      /* per action, rules and blocks together */
  DNSPC_K_ACTION_REFUSE,
  DNSPC_K_ACTION_RCODE,
  DNSPC_K_ACTION_TRUNCATE,
  DNSPC_K_UNSEALED,         /* of PASSED: not sealed (padding, no room), so evaluated whole */
  DNSPC_K_COUNTER_COUNT
};

/* Kernel actions (a subset of ActionKind, numbered on their own). */
enum dnspc_k_action_kind {
  DNSPC_K_DROP = 1,
  DNSPC_K_REFUSE = 2,
  DNSPC_K_RCODE = 3,
  DNSPC_K_TRUNCATE = 4,
};

struct dnspc_k_action {
  uint8_t kind;  /* dnspc_k_action_kind */
  uint8_t rcode; /* DNSPC_K_RCODE: the rcode (0..15) */
  uint16_t pad;
};

/* The bytes the program appends to a query it evaluated without a
 * decision, after setting its Z bit (docs/xdp.md, "The hand-over"). */
#define DNSPC_K_SEAL_SIZE 8

struct dnspc_k_config {
  uint64_t hash_seed;    /* keys the name hash; random per compiled program */
  uint64_t now_override; /* tests: when non-zero, the clock the rate bounds read */
  uint32_t prefix_rules; /* rules the kernel owns; "no match" is this value */
  uint32_t pad;
  uint8_t seal[DNSPC_K_SEAL_SIZE]; /* random per process (kernel_seal.h) */
};

/* A name key: the keyed hash of one suffix of the lower-case wire name
 * (dnspc_k_hash_byte), whether it must be the whole name (exact) or may be a
 * suffix, and the qtype it needs plus one (0: any qtype). */
struct dnspc_k_name_key {
  uint64_t hash;
  uint32_t kind; /* DNSPC_K_NAME_EXACT or DNSPC_K_NAME_SUFFIX */
  uint32_t qtype;
};
enum dnspc_k_name_kind { DNSPC_K_NAME_EXACT = 0, DNSPC_K_NAME_SUFFIX = 1 };

/* What a lookup (name or address) reports: the first rule that holds by
 * this key alone ("folded" rules, DNSPC_K_NO_RULE when none), and the bits
 * of the tests of other rules that hold. */
struct dnspc_k_lookup {
  uint32_t min_rule;
  uint32_t regex_chain; /* names only: 1 + the first of the folded regex rules under this name, or 0 */
  uint64_t bits;
};

/* A folded regex rule: its rule and its regex (DNSPC_K_MAP_REGEXES), and
 * 1 + the next rule of its chain (0: the end). A chain holds the rules whose
 * regexes lie under one name, in rule order. */
struct dnspc_k_regex_rule {
  uint32_t rule;
  uint32_t regex;
  uint32_t next;
  uint32_t pad;
};
enum { DNSPC_K_NO_RULE = 0xffffffffu };

struct dnspc_k_lpm4 {
  uint32_t prefixlen;
  uint8_t addr[4];
};
struct dnspc_k_lpm6 {
  uint32_t prefixlen;
  uint8_t addr[16];
};

/* One regex's DFA: its transitions start at DFA[base], indexed
 * state * class_count + class; a transition's low 16 bits are the next
 * state and bit 16 says that state accepts. classes[] maps bytes to classes. */
struct dnspc_k_regex {
  uint32_t base;
  uint32_t class_count;
  uint32_t start;
  uint32_t start_accepts;
  uint32_t sink_count;
  uint32_t pad;
  uint8_t classes[256];
};

struct dnspc_k_source_rate_key {
  uint32_t limiter;
  uint32_t family; /* 4 or 6 */
  uint8_t addr[16]; /* masked to the limiter's prefix */
};

struct dnspc_k_dynblock {
  uint8_t kind;  /* dnspc_k_action_kind */
  uint8_t rcode;
  uint16_t pad;
  uint32_t pad2;
  uint64_t until_ns; /* bpf_ktime_get_ns() clock; past it the block is ignored */
};

struct dnspc_k_listener {
  uint32_t family; /* 4 or 6 */
  uint16_t port;   /* network order */
  uint16_t pad;
  uint8_t addr[16];
};

/* Chains of folded regex rules a name may lead to (one per suffix whose
 * name key has one), and DFA runs over them per query; past either the
 * query goes up unevaluated, so the kernel's work per packet stays bounded. */
#define DNSPC_K_REGEX_CHAINS 8
#define DNSPC_K_REGEX_STEPS 64

/* The packet's facts the decision code reads; one per CPU (BPF stacks are
 * 512 bytes). Offsets are read by the generated code through offsetof. */
struct dnspc_k_view {
  uint8_t name[256];        /* lower-case wire name, root byte included */
  uint8_t label_start[256]; /* 1 at each label's length byte */
  uint16_t name_length;     /* wire length, root byte included */
  uint16_t label_count;
  uint16_t qtype;
  uint16_t qclass;
  uint16_t flags;
  uint16_t size;            /* the DNS message's bytes */
  uint16_t edns_payload;
  uint8_t opcode;
  uint8_t edns_present;
  uint8_t edns_do;
  uint8_t edns_version;
  uint8_t family;           /* 4 or 6 */
  uint8_t pad;
  uint8_t source[16];       /* IPv4 in the first 4 bytes */
  uint8_t destination[16];
  uint64_t name_bits;       /* bits of the name tests that hold */
  uint64_t source_bits;
  uint64_t destination_bits;
  uint32_t best;            /* first folded rule that holds, or prefix_rules */
  uint32_t pad2;
  uint64_t now_ns;
  /* The folded regex rules' chains the name's suffixes lead to, to run
   * after the lookups; more than fit and the query goes up unevaluated. */
  uint32_t regex_heads[DNSPC_K_REGEX_CHAINS];
  uint32_t regex_head_count;
  uint32_t regex_overflow;
};

/* The name hash: FNV-1a over the suffix's bytes read from its end (the root
 * byte first), starting from the seed, so one backward pass over the name
 * yields the hash of every suffix at its label's length byte. A collision can
 * only misfile the query whose name collides, and only the sender of that
 * query chooses it. */
static inline uint64_t dnspc_k_hash_byte(uint64_t h, uint8_t b) {
  return (h ^ b) * 0x100000001b3ull;
}

#ifdef __cplusplus
}  // namespace dnspc::kernel
#endif

#endif /* DNSPC_KERNEL_ABI_H */
