// SPDX-License-Identifier: GPL-2.0
/*
 * vmemmap-tails: which of the kernel's shared tail slots are filled, read
 * from the kernel itself: one line "NODE ZONE ORDER 0|1" per online node,
 * zone and order 9 and 18; 1 if zone->vmemmap_tails[ORDER - 7] holds a
 * page. A slot, once filled (by hvo_shared or the kernel's HVO), stays
 * filled until reboot: tests that expect a shared tail to be allocated
 * read the slots first.
 *
 *   vmemmap-tails
 *
 * The layout of struct zone and struct pglist_data comes from the
 * kernel's BTF (/sys/kernel/btf/vmlinux), node_data from /proc/kallsyms,
 * the values from /proc/kcore. What bpftrace would read, at a fraction
 * of its start-up cost under TCG.
 */
#define PROG "vmemmap-tails"
#include "kcore.h"

/* First order with a slot: vmemmap_tails[order - TAIL_MIN_ORDER]. */
#define TAIL_MIN_ORDER	7

struct btf_header {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
};

struct btf_type {
	uint32_t name_off, info, size;
};

struct btf_member {
	uint32_t name_off, type, offset;
};

struct layout {
	const char *type, *member;
	uint32_t offset;	/* of member, bytes; or the type's size */
	int found;
};

static struct layout want[] = {
	{ "pglist_data", "node_zones" },
	{ "zone", NULL },		/* sizeof(struct zone) */
	{ "zone", "name" },
	{ "zone", "vmemmap_tails" },
};

enum { NODE_ZONES, ZONE_SIZE, ZONE_NAME, ZONE_TAILS };

static void *slurp(const char *path, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	ssize_t got;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf)
		die("cannot read /sys/kernel/btf/vmlinux");
	while ((got = read(fd, buf + n, cap - n)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				die("out of memory");
		}
	}
	close(fd);
	if (got < 0)
		die("cannot read /sys/kernel/btf/vmlinux");
	*len = n;
	return buf;
}

/* Bytes of kind-specific data after a struct btf_type. */
static size_t btf_extra(const struct btf_type *t)
{
	uint32_t vlen = t->info & 0xffff;

	switch (t->info >> 24 & 0x1f) {
	case 1: case 14: case 17:	/* INT, VAR, DECL_TAG */
		return 4;
	case 3:				/* ARRAY */
		return 12;
	case 4: case 5: case 15: case 19: /* STRUCT, UNION, DATASEC, ENUM64 */
		return 12 * vlen;
	case 6: case 13:		/* ENUM, FUNC_PROTO */
		return 8 * vlen;
	default:
		return 0;
	}
}

static void btf_layout(void)
{
	size_t len, i, nw = sizeof(want) / sizeof(want[0]);
	char *buf = slurp("/sys/kernel/btf/vmlinux", &len);
	struct btf_header *h = (void *)buf;
	char *types, *end, *strs, *p;

	if (len < sizeof(*h) || h->magic != 0xeb9f)
		die("/sys/kernel/btf/vmlinux is not BTF");
	types = buf + h->hdr_len + h->type_off;
	end = types + h->type_len;
	strs = buf + h->hdr_len + h->str_off;
	for (p = types; p + sizeof(struct btf_type) <= end;) {
		struct btf_type *t = (void *)p;
		struct btf_member *m = (void *)(t + 1);
		uint32_t kind = t->info >> 24 & 0x1f, j;

		p += sizeof(*t) + btf_extra(t);
		if (kind != 4)
			continue;
		for (i = 0; i < nw; i++) {
			if (want[i].found || strcmp(strs + t->name_off, want[i].type))
				continue;
			if (!want[i].member) {
				want[i].offset = t->size;
				want[i].found = 1;
				continue;
			}
			for (j = 0; j < (t->info & 0xffff); j++) {
				uint32_t bits = t->info >> 31 ? m[j].offset & 0xffffff : m[j].offset;

				if (!strcmp(strs + m[j].name_off, want[i].member)) {
					want[i].offset = bits / 8;
					want[i].found = 1;
				}
			}
		}
	}
	for (i = 0; i < nw; i++)
		if (!want[i].found) {
			fprintf(stderr, "vmemmap-tails: no %s%s%s in the kernel's BTF\n",
				want[i].type, want[i].member ? "." : "",
				want[i].member ? want[i].member : "");
			exit(2);
		}
	free(buf);
}

int main(void)
{
	static const int orders[] = { 9, 18 };
	static const char *const names[] = { "node_data" };
	uint64_t node_data, pgdat, zone;
	char path[64], name[16];
	int nid, z, o;

	btf_layout();
	kcore_open();
	ksyms(names, &node_data, 1);

	for (nid = 0;; nid++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", nid);
		if (access(path, F_OK))
			break;
		pgdat = rd64(node_data + 8 * nid);
		if (!pgdat)
			continue;
		/* DMA, DMA32, Normal, Movable: the zones before ZONE_DEVICE. */
		for (z = 0; z < 4; z++) {
			zone = pgdat + want[NODE_ZONES].offset + z * want[ZONE_SIZE].offset;
			kread(rd64(zone + want[ZONE_NAME].offset), name, sizeof(name) - 1);
			name[sizeof(name) - 1] = 0;
			for (o = 0; o < 2; o++)
				printf("%d %s %d %d\n", nid, name, orders[o],
				       rd64(zone + want[ZONE_TAILS].offset +
					    8 * (orders[o] - TAIL_MIN_ORDER)) != 0);
		}
	}
	return 0;
}
