/* Entropy and clock from the host (startpod_facts.h). */
#include "startpod_facts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "hex.h"
#include "json_util.h"
#include "log.h"

int agent_parse_host_facts(json_object *req, struct agent_host_facts *out, kata_error_t *err)
{
	cleanup_free char *hex = NULL;
	json_object *when = NULL;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (json_get_string(req, "entropy", "", false, &hex, err) < 0 ||
	    json_get_object(req, "hostTime", "", false, &when, err) < 0)
		return -1;
	if (hex != NULL) {
		len = strlen(hex);
		if (len % 2 != 0 || len / 2 < AGENT_ENTROPY_MIN_BYTES ||
		    len / 2 > AGENT_ENTROPY_MAX_BYTES)
			return kata_error_set(err, EINVAL,
			                      "entropy: expected %d to %d bytes in hex",
			                      AGENT_ENTROPY_MIN_BYTES, AGENT_ENTROPY_MAX_BYTES);
		for (size_t i = 0; i < len / 2; i++) {
			int byte = hex_byte_value(hex + 2 * i);

			if (byte < 0)
				return kata_error_set(err, EINVAL, "entropy: not hex");
			out->entropy[i] = (unsigned char)byte;
		}
		out->entropy_len = len / 2;
	}
	if (when != NULL) {
		int64_t nsec = 0;

		if (json_get_int64(when, "sec", "hostTime", true, &out->time_sec, err) < 0 ||
		    json_get_int64(when, "nsec", "hostTime", true, &nsec, err) < 0)
			return -1;
		if (out->time_sec < 0 || nsec < 0 || nsec > 999999999)
			return kata_error_set(err, EINVAL, "hostTime: out of range");
		out->time_nsec = (long)nsec;
		out->has_time = true;
	}
	return 0;
}

static int reseed(const unsigned char *bytes, size_t len, kata_error_t *err)
{
	/* The header and its flexible buf[] with room for the bytes (a union: a struct with a
	 * flexible array may not be followed by another member). */
	union {
		struct rand_pool_info info;
		unsigned char room[sizeof(struct rand_pool_info) + AGENT_ENTROPY_MAX_BYTES];
	} pool;
	cleanup_close int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return kata_error_sys(err, "open /dev/urandom");
	memset(&pool, 0, sizeof(pool));
	pool.info.entropy_count = (int)(len * 8);
	pool.info.buf_size = (int)len;
	memcpy(pool.info.buf, bytes, len);
	/* Credited, then the CRNG reseeded now rather than at its next interval: what a
	 * clone draws after this differs from what its template and siblings draw. */
	if (ioctl(fd, RNDADDENTROPY, &pool) < 0)
		return kata_error_sys(err, "RNDADDENTROPY");
	if (ioctl(fd, RNDRESEEDCRNG) < 0)
		return kata_error_sys(err, "RNDRESEEDCRNG");
	explicit_bzero(&pool, sizeof(pool));
	return 0;
}

int agent_apply_host_facts(const struct agent_host_facts *facts, kata_error_t *err)
{
	if (facts->entropy_len > 0 && reseed(facts->entropy, facts->entropy_len, err) < 0)
		return -1;
	if (facts->has_time) {
		struct timespec ts = { .tv_sec = (time_t)facts->time_sec,
			               .tv_nsec = facts->time_nsec };

		if (clock_settime(CLOCK_REALTIME, &ts) < 0)
			return kata_error_sys(err, "clock_settime");
	}
	if (facts->entropy_len > 0 || facts->has_time)
		log_debug("host facts: %zu bytes of entropy, clock %s", facts->entropy_len,
		          facts->has_time ? "set" : "kept");
	return 0;
}
