/* proxy-cli: a test client of kata-proxy, playing the runtime's part (lib/proxy_client.h)
 * so that end-to-end tests can set a process up for a real kata-shim.
 *
 *   proxy-cli SOCKET register ID N          RegisterVM ID with N tokens
 *   proxy-cli SOCKET attach ID N            AttachVM ID, N tokens
 *   proxy-cli SOCKET hyper NAME [JSON [TOKEN...]]
 *                                           an agent command through the proxy; prints its
 *                                           answer's JSON, if any
 *   proxy-cli SOCKET unregister ID
 *
 * register and attach print "url URL" and one "token TOKEN" line per token. Errors go
 * to stderr with exit status 1.
 */
#include "cleanup.h"
#include "json_util.h"
#include "proxy_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 60000

static int print_tokens(const struct proxy_io_tokens *io)
{
	printf("url %s\n", io->url);
	for (size_t i = 0; i < io->count; i++)
		printf("token %s\n", io->tokens[i]);
	return 0;
}

static int run(struct proxy_conn *conn, int argc, char **argv, kata_error_t *err)
{
	struct proxy_io_tokens io = { 0 };
	const char *verb = argv[0];
	int r;

	if ((strcmp(verb, "register") == 0 || strcmp(verb, "attach") == 0) && argc == 3) {
		if (strcmp(verb, "register") == 0)
			r = proxy_register_vm(conn, argv[1], NULL, NULL, NULL, atoi(argv[2]), &io,
			                      err);
		else
			r = proxy_attach_vm(conn, argv[1], atoi(argv[2]), &io, err);
		if (r == 0)
			print_tokens(&io);
		proxy_io_tokens_clear(&io);
		return r;
	}
	if (strcmp(verb, "unregister") == 0 && argc == 2)
		return proxy_unregister_vm(conn, argv[1], err);
	if (strcmp(verb, "hyper") == 0 && argc >= 2) {
		cleanup_json json_object *data = NULL;
		cleanup_json json_object *result = NULL;

		if (argc >= 3) {
			data = json_parse_text(argv[2], strlen(argv[2]), err);
			if (data == NULL)
				return kata_error_wrap(err, "JSON");
		}
		result = proxy_hyper(conn, argv[1], (const char *const *)(argv + 3),
		                     argc > 3 ? (size_t)(argc - 3) : 0, data, err);
		if (result == NULL && *err != NULL)
			return -1;
		if (result != NULL)
			printf("%s\n",
			       json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN));
		return 0;
	}
	return kata_error_set(err, EINVAL, "bad command `%s` (see the comment of proxy-cli.c)",
	                      verb);
}

int main(int argc, char **argv)
{
	cleanup_error kata_error_t err = NULL;
	struct proxy_conn *conn;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SOCKET register|attach|hyper|unregister ...\n", argv[0]);
		return 1;
	}
	conn = proxy_conn_connect(argv[1], TIMEOUT_MS, &err);
	if (conn == NULL) {
		fprintf(stderr, "proxy-cli: %s\n", err->message);
		return 1;
	}
	r = run(conn, argc - 2, argv + 2, &err);
	proxy_conn_close(conn);
	if (r < 0) {
		fprintf(stderr, "proxy-cli: %s\n", err ? err->message : "failed");
		return 1;
	}
	return 0;
}
