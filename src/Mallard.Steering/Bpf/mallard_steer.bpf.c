// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// mallard_steer: the XDP half of Mallard's steering mode (docs/steering.md). On every server
// behind a 4-tuple tier (IPVS direct routing, ECMP), it reads the QUIC connection ID of each
// packet for the service port and, when the ID names another server (QUIC-LB,
// draft-ietf-quic-load-balancers-21), hands the packet to that server before the local stack sees
// it: on the same L2 segment by rewriting the destination MAC (XDP_TX), on another segment by
// wrapping the frame in VXLAN (RFC 7348) to the server's underlay address, sent back out of the
// same interface to the next hop user space resolved, where the owner's kernel VXLAN device
// unwraps it. Everything else passes.
//
// Map layouts are mirrored in Mallard.Steering/SteeringMaps.cs and checked against this
// program's BTF-sized maps when it is loaded.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_CONFIGS 7
#define MAX_SERVER_ID 15
#define MAX_CID 20
#define UNROUTABLE_CONFIG 7
#define VXLAN_OUTER (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr) + 8)
#define MAX_SAMPLE_FRAME 2048   // a power of two: the copy's length is bounded by a mask the verifier follows

// Why a packet went where it went; one per-CPU counter each (SteeringBranch in C#).
enum branch {
	BR_NOT_IP = 0,        // not IPv4 or IPv6, or an IP header that does not fit
	BR_NOT_SERVICE,       // not UDP to the service port (fragments included)
	BR_MALFORMED,         // a QUIC header cut short or impossible
	BR_INITIAL,           // Initial, 0-RTT, Retry or Version Negotiation: the tier chose well
	BR_UNROUTABLE,        // config rotation 0b111
	BR_UNKNOWN_CONFIG,    // a config rotation codepoint not configured
	BR_OWN,               // this server's ID
	BR_UNKNOWN_SERVER,    // a server ID no server has
	BR_STEERED,           // another server's ID: sent to it
	BR_STEERED_LEARNED,   // an encrypted ID user space decoded before: sent to its server
	BR_NOT_LEARNED,       // an encrypted ID not decoded yet: passed, and a copy queued for user space
	BR_FROM_PEER,         // arrived from another server (already steered once): never again
	BR_LEARN_QUEUE_FULL,  // an encrypted ID not decoded yet, and user space's queue was full
	BR_NO_ROUTE,          // the owner is on another segment and no route or neighbour leads there
	BR_TOO_BIG,           // the owner is on another segment and the wrapped frame exceeds the MTU
	BR_COUNT,
};

struct settings {
	__u16 service_port;   // network order
	__u8 own_mac[6];      // the source of steered frames
	__u8 enabled;         // 0: pass everything (counted as such)
	__u8 pad;
	__u16 vxlan_port;     // network order: the peers' VXLAN devices listen here
	__u32 vxlan_word;     // network order: the VXLAN header's second word (VNI << 8)
	__u32 underlay_ip;    // network order: this server's address towards the peers; 0: none
	__u16 underlay_mtu;   // the interface's MTU: a wrapped frame's IP packet must fit
	__u8 pad2[2];
};

struct lb_config {
	__u8 present;
	__u8 server_id_len;   // 1..15
	__u8 cid_len;         // 1 + server ID + nonce (short headers carry no length)
	__u8 encrypted;       // single-pass or four-pass: only learned IDs are steered here
};

struct server_key {
	__u8 config_id;
	__u8 len;
	__u8 id[MAX_SERVER_ID];
	__u8 pad;
};

struct cid_key {
	__u8 len;
	__u8 cid[MAX_CID];
	__u8 pad[3];
};

struct target {
	__u8 mac[6];          // the owner's MAC on this segment, or of its VXLAN device
	__u8 self;            // 1: this server (pass)
	__u8 pad;
	__u32 underlay_ip;    // network order: the owner's underlay address (VXLAN); 0: this segment
	__u8 next_hop[6];     // the MAC the wrapped frame goes to (router or owner); zeros: unresolved
	__u8 pad2[2];
};

struct mac_key {
	__u8 mac[6];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct settings);
} steer_settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CONFIGS);
	__type(key, __u32);
	__type(value, struct lb_config);
} steer_configs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct server_key);
	__type(value, struct target);
} steer_servers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cid_key);
	__type(value, struct target);
} steer_learned SEC(".maps");

// A copy of a frame whose encrypted connection ID is not learned yet, for user space to decode
// (LearnQueue.cs mirrors it): the frame's length and how much of it was copied.
struct learn_sample {
	__u32 len;
	__u32 copied;
	__u8 frame[MAX_SAMPLE_FRAME];
};

// Bounded: when user space falls behind, frames pass uncopied (BR_LEARN_QUEUE_FULL), so a flood
// of unknown IDs costs the server at most this queue's worth of decoding.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} steer_learn_queue SEC(".maps");

// Frames from these source MACs come from other servers: they were steered already.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct mac_key);
	__type(value, __u8);
} steer_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} steer_counters SEC(".maps");

static __always_inline int count(__u32 branch, int verdict)
{
	__u64 *value = bpf_map_lookup_elem(&steer_counters, &branch);
	if (value)
		*value += 1;
	return verdict;
}

// Wraps the frame (its MACs already the owner's VXLAN device's and this server's) in Ethernet,
// IPv4, UDP and VXLAN headers to the owner's underlay address and sends it back out of this
// interface to the next hop that user space resolved from the routing and neighbour tables
// (bpf_fib_lookup would need IP forwarding on, which a server should not need). The outer UDP
// source port follows the client's, so an underlay that hashes flows keeps each client's packets
// in order. The outer UDP checksum is zero, as RFC 7348 allows over IPv4.
static __always_inline int encapsulate(struct xdp_md *ctx, const struct target *to, const struct settings *settings, __u16 client_port, __u32 branch)
{
	__u32 inner = ctx->data_end - ctx->data;
	if (!settings->underlay_ip || !(to->next_hop[0] | to->next_hop[1] | to->next_hop[2] | to->next_hop[3] | to->next_hop[4] | to->next_hop[5]))
		return count(BR_NO_ROUTE, XDP_PASS);
	if (inner - sizeof(struct ethhdr) + VXLAN_OUTER > settings->underlay_mtu)
		return count(BR_TOO_BIG, XDP_PASS);
	__u8 next_hop[6];
#pragma unroll
	for (int i = 0; i < 6; i++)
		next_hop[i] = to->next_hop[i];
	__u32 destination = to->underlay_ip, source = settings->underlay_ip, word = settings->vxlan_word;
	__u16 port = settings->vxlan_port;
	if (bpf_xdp_adjust_head(ctx, -(int)VXLAN_OUTER))
		return count(BR_NO_ROUTE, XDP_PASS);
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 *vxlan = (void *)(udp + 1);
	struct ethhdr *wrapped = (void *)(vxlan + 2);
	if ((void *)(wrapped + 1) > end)
		return count(BR_NO_ROUTE, XDP_DROP);   // the kernel grew the head: cannot happen
#pragma unroll
	for (int i = 0; i < 6; i++) {
		eth->h_dest[i] = next_hop[i];
		eth->h_source[i] = wrapped->h_source[i];   // this server's MAC
	}
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(inner + VXLAN_OUTER - sizeof(struct ethhdr));
	ip->id = 0;
	ip->frag_off = bpf_htons(0x4000);   // don't fragment: the MTU is checked above
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->check = 0;
	ip->saddr = source;
	ip->daddr = destination;
	__u32 sum = 0;
	__u16 *words = (void *)ip;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += words[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = ~sum;
	udp->source = bpf_htons(0xc000 | (bpf_ntohs(client_port) & 0x3fff));
	udp->dest = port;
	udp->len = bpf_htons(inner + 16);
	udp->check = 0;
	vxlan[0] = bpf_htonl(0x08000000);  // flags: a valid VNI follows
	vxlan[1] = word;
	return count(branch, XDP_TX);
}

static __always_inline int send_to(struct xdp_md *ctx, struct ethhdr *eth, const struct target *to, const struct settings *settings, __u16 client_port, __u32 branch)
{
	if (to->self)
		return count(BR_OWN, XDP_PASS);
	// Byte by byte: clang's memcpy/memcmp builtins do not load on every kernel.
#pragma unroll
	for (int i = 0; i < 6; i++) {
		eth->h_dest[i] = to->mac[i];
		eth->h_source[i] = settings->own_mac[i];
	}
	if (to->underlay_ip)
		return encapsulate(ctx, to, settings, client_port, branch);
	return count(branch, XDP_TX);
}

// The frame passes to the local stack, and a copy goes to user space, which decodes the ID,
// learns where it belongs (so the connection's next packets are steered here) and sends the
// copy to its owner when that is another server.
static __always_inline int queue_for_learning(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	struct learn_sample *sample = bpf_ringbuf_reserve(&steer_learn_queue, sizeof(*sample), 0);
	if (!sample)
		return count(BR_LEARN_QUEUE_FULL, XDP_PASS);
	__u32 copied = len < MAX_SAMPLE_FRAME - 1 ? len : MAX_SAMPLE_FRAME - 1;
	// Hidden from clang, which would drop the mask below as already implied, leaving the
	// verifier without a bound it can see on the helper's length.
	asm volatile("" : "+r"(copied));
	copied &= MAX_SAMPLE_FRAME - 1;
	if (copied == 0 || bpf_xdp_load_bytes(ctx, 0, sample->frame, copied) != 0) {
		bpf_ringbuf_discard(sample, 0);
		return count(BR_MALFORMED, XDP_PASS);
	}
	sample->len = len;
	sample->copied = copied;
	bpf_ringbuf_submit(sample, 0);
	return count(BR_NOT_LEARNED, XDP_PASS);
}

SEC("xdp")
int mallard_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct settings *settings = bpf_map_lookup_elem(&steer_settings, &zero);
	if (!settings)
		return XDP_PASS;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return count(BR_NOT_IP, XDP_PASS);

	struct udphdr *udp;
	__u16 proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return count(BR_NOT_IP, XDP_PASS);
		// Fragments (MF set or an offset) carry no whole UDP header to judge by.
		if (ip->protocol != IPPROTO_UDP || (ip->frag_off & bpf_htons(0x3fff)))
			return count(BR_NOT_SERVICE, XDP_PASS);
		udp = (void *)ip + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return count(BR_NOT_IP, XDP_PASS);
		if (ip6->nexthdr != IPPROTO_UDP)   // extension headers: left to the stack
			return count(BR_NOT_SERVICE, XDP_PASS);
		udp = (void *)(ip6 + 1);
	} else {
		return count(BR_NOT_IP, XDP_PASS);
	}

	if ((void *)(udp + 1) > end || udp->dest != settings->service_port)
		return count(BR_NOT_SERVICE, XDP_PASS);
	if (!settings->enabled)
		return count(BR_OWN, XDP_PASS);

	struct mac_key source = {};
#pragma unroll
	for (int i = 0; i < 6; i++)
		source.mac[i] = eth->h_source[i];
	if (bpf_map_lookup_elem(&steer_peers, &source))
		return count(BR_FROM_PEER, XDP_PASS);

	__u8 *quic = (void *)(udp + 1);
	if ((void *)(quic + 1) > end)
		return count(BR_MALFORMED, XDP_PASS);
	__u8 first = quic[0];
	__u8 *cid;
	__u32 cid_len;
	if (first & 0x80) {
		// Long header (RFC 8999): version, then the destination CID with its length.
		if ((void *)(quic + 6) > end)
			return count(BR_MALFORMED, XDP_PASS);
		__u32 version = ((__u32)quic[1] << 24) | ((__u32)quic[2] << 16) | ((__u32)quic[3] << 8) | quic[4];
		// Version Negotiation, and in QUIC v1 the Initial, 0-RTT and Retry packets: their
		// destination CID is the client's choice, and the tier's choice of server stands.
		if (version == 0 || (version == 1 && ((first >> 4) & 3) != 2))
			return count(BR_INITIAL, XDP_PASS);
		cid_len = quic[5];
		if (cid_len == 0 || cid_len > MAX_CID)
			return count(BR_MALFORMED, XDP_PASS);
		cid = quic + 6;
	} else {
		cid = quic + 1;
		cid_len = 0; // from the config below
	}

	if ((void *)(cid + 1) > end)
		return count(BR_MALFORMED, XDP_PASS);
	__u32 config_id = cid[0] >> 5;
	if (config_id == UNROUTABLE_CONFIG)
		return count(BR_UNROUTABLE, XDP_PASS);
	struct lb_config *config = bpf_map_lookup_elem(&steer_configs, &config_id);
	if (!config || !config->present)
		return count(BR_UNKNOWN_CONFIG, XDP_PASS);
	if (cid_len == 0)
		cid_len = config->cid_len;
	if (cid_len > MAX_CID || cid_len < 1 + (__u32)config->server_id_len)
		return count(BR_MALFORMED, XDP_PASS);
	// The whole connection ID must be there: a packet cut inside it is no QUIC packet.
	cid_len &= 0x1f;
	if ((void *)(cid + cid_len) > end)
		return count(BR_MALFORMED, XDP_PASS);

	if (config->encrypted) {
		struct cid_key key = { .len = cid_len };
		for (int i = 0; i < MAX_CID; i++) {
			if (i >= cid_len)
				break;
			if ((void *)(cid + i + 1) > end)
				return count(BR_MALFORMED, XDP_PASS);
			key.cid[i] = cid[i];
		}
		struct target *learned = bpf_map_lookup_elem(&steer_learned, &key);
		if (!learned)
			return queue_for_learning(ctx);
		return send_to(ctx, eth, learned, settings, udp->source, BR_STEERED_LEARNED);
	}

	struct server_key key = { .config_id = config_id, .len = config->server_id_len };
	for (int i = 0; i < MAX_SERVER_ID; i++) {
		if (i >= config->server_id_len)
			break;
		if ((void *)(cid + 2 + i) > end)
			return count(BR_MALFORMED, XDP_PASS);
		key.id[i] = cid[1 + i];
	}
	struct target *owner = bpf_map_lookup_elem(&steer_servers, &key);
	if (!owner)
		return count(BR_UNKNOWN_SERVER, XDP_PASS);
	return send_to(ctx, eth, owner, settings, udp->source, BR_STEERED);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
