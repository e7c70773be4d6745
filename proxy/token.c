/* Tokens: each names the I/O of one process. 32 random bytes in padded URL-safe base64,
 * as Clear Containers made them (cc-shim accepts nothing else). Each token owns two
 * agent stream sequence numbers, allocated here: stdio (stdin and stdout) and stderr. */
#include "proxy.h"
#include "agent_proto.h"
#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char base64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int proxy_token_generate(char *out, kata_error_t *err)
{
	unsigned char raw[PROXY_TOKEN_BYTES + 1] = { 0 };
	size_t got = 0, o = 0;

	while (got < PROXY_TOKEN_BYTES) {
		ssize_t n = getrandom(raw + got, PROXY_TOKEN_BYTES - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kata_error_sys(err, "getrandom");
		got += n;
	}
	/* 32 bytes: ten 3-byte groups, then 2 bytes that end in one '=' */
	for (size_t i = 0; i < PROXY_TOKEN_BYTES; i += 3) {
		size_t left = PROXY_TOKEN_BYTES - i;
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		             (left > 2 ? raw[i + 2] : 0);
		out[o++] = base64url[(v >> 18) & 63];
		out[o++] = base64url[(v >> 12) & 63];
		out[o++] = left > 1 ? base64url[(v >> 6) & 63] : '=';
		out[o++] = left > 2 ? base64url[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

bool proxy_token_is_valid(const char *token)
{
	size_t len = strlen(token);

	if (len != PROXY_TOKEN_LENGTH)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (token[i] == '=' && i == len - 1)
			continue;
		if (strchr(base64url, token[i]) == NULL || token[i] == '\0')
			return false;
	}
	return true;
}

struct proxy_token *proxy_token_new(struct proxy *proxy, kata_error_t *err)
{
	struct proxy_token *token;

	if (proxy->token_count >= PROXY_MAX_TOKENS)
		return kata_error_set(err, ENOSPC, "too many tokens (%d)", PROXY_MAX_TOKENS), NULL;
	token = xzalloc(sizeof(*token));
	token->status_seen = -1;
	if (proxy_token_generate(token->token, err) < 0) {
		free(token);
		return NULL;
	}
	/* sequence numbers are never reused within a VM; 0 is the credit channel */
	token->stdio_seq = proxy->next_seq++;
	token->stderr_seq = proxy->next_seq++;
	token->next = proxy->tokens;
	proxy->tokens = token;
	proxy->token_count++;
	return token;
}

void proxy_token_free(struct proxy *proxy, struct proxy_token *token)
{
	struct proxy_token **p;

	for (p = &proxy->tokens; *p != NULL && *p != token; p = &(*p)->next)
		;
	if (*p == NULL)
		return;
	*p = token->next;
	proxy->token_count--;
	if (token->shim != NULL)
		token->shim->token = NULL;
	free(token->container);
	free(token->process);
	free(token->backlog);
	free(token->stdin_backlog);
	free(token);
}

struct proxy_token *proxy_token_find(struct proxy *proxy, const char *name)
{
	for (struct proxy_token *t = proxy->tokens; t != NULL; t = t->next)
		if (strcmp(t->token, name) == 0)
			return t;
	return NULL;
}

struct proxy_token *proxy_token_find_seq(struct proxy *proxy, uint64_t seq)
{
	if (seq == AGENT_IO_CREDIT_SEQ)
		return NULL;
	for (struct proxy_token *t = proxy->tokens; t != NULL; t = t->next)
		if (t->stdio_seq == seq || t->stderr_seq == seq)
			return t;
	return NULL;
}

struct proxy_token *proxy_token_find_process(struct proxy *proxy, const char *container,
                                             const char *process)
{
	for (struct proxy_token *t = proxy->tokens; t != NULL; t = t->next)
		if (t->bound && !t->exited && strcmp(t->container, container) == 0 &&
		    strcmp(t->process, process) == 0)
			return t;
	return NULL;
}
