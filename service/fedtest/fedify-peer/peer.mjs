// A small ActivityPub server built on Fedify, an implementation independent
// of Thoughts, for the interop test (service/fedtest/fedify_test.go). It has
// one actor, "peer", that follows, posts, likes and replies when told to
// through a control API, and records every activity its inbox accepted.
//
// It listens on 127.0.0.1 only, on a port the OS picks, and prints one line
// of JSON, {"base": "http://127.0.0.1:PORT"}, once it is ready. Everything is
// in memory: a new process is a new server.
//
// Fedify refuses private and loopback addresses unless told otherwise
// (allowPrivateAddress), and resolves user@host handles over https only, so
// the test hands it actor URLs. It signs with RFC 9421 first and falls back
// to draft-cavage when the receiver refuses (double-knocking).
//
// Control API (JSON in and out), under /_control/:
//   GET  info                       the actor's IRI, inbox and handle
//   POST lookup   {url}             fetch an actor or object (Fedify's lookupObject)
//   POST webfinger {resource}       WebFinger lookup (an actor URL: over its own scheme)
//   ANY  verify                     verify the HTTP signature of this very request
//   POST follow   {actor}           send Follow to the actor at that URL
//   POST unfollow {actor}           send Undo(Follow)
//   POST post     {content, visibility: public|followers, mention?, inReplyTo?}
//   POST like     {object}          send Like of the object to its author
//   GET  received                   activities the inbox verified and accepted, and
//                                   every inbox request with the status answered
//   GET  followers | following      actor IRIs
import http from "node:http";
import { randomUUID } from "node:crypto";
import {
  createFederation,
  generateCryptoKeyPair,
  MemoryKvStore,
  verifyRequest,
} from "@fedify/fedify";
import {
  Accept,
  Announce,
  Block,
  Create,
  Delete,
  Endpoints,
  Follow,
  isActor,
  Like,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Reject,
  Undo,
  Update,
} from "@fedify/fedify/vocab";

const IDENTIFIER = "peer";
const host = process.env.PEER_HOST || "127.0.0.1";

const state = {
  keyPairs: [await generateCryptoKeyPair("RSASSA-PKCS1-v1_5")],
  followers: new Map(), // actor IRI -> Actor
  following: new Set(), // actor IRIs whose Accept arrived
  notes: new Map(), // note IRI -> Note
  received: [], // {type, id, actor, object, raw}
  inboxRequests: [], // {path, status, scheme, at}
  rawById: new Map(), // activity id -> parsed JSON body
};

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error("peer: request failed:", err);
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(err?.stack ?? err) }));
  });
});
await new Promise((resolve) => server.listen(0, host, resolve));
const base = `http://${host}:${server.address().port}`;

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin: base,
  allowPrivateAddress: true, // the test runs on loopback
  userAgent: { software: "thoughts-fedtest-peer/1" },
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify peer",
      summary: "An interop peer for the Thoughts tests",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      manuallyApprovesFollowers: false,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === IDENTIFIER ? state.keyPairs : []));

federation.setFollowersDispatcher("/users/{identifier}/followers", async (_ctx, identifier) => {
  if (identifier !== IDENTIFIER) return null;
  return { items: [...state.followers.values()] };
});

federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", async (ctx, values) => {
  return state.notes.get(ctx.getObjectUri(Note, values).href) ?? null;
});

function record(activity, extra = {}) {
  const id = activity.id?.href ?? null;
  const raw = id ? state.rawById.get(id) ?? null : null;
  const entry = {
    type: raw?.type ?? activity.constructor.name,
    id,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
    raw,
    ...extra,
  };
  state.received.push(entry);
  console.error(`peer: inbox accepted ${entry.type} ${entry.id} from ${entry.actor}`);
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    record(follow);
    if (follow.objectId?.href !== ctx.getActorUri(IDENTIFIER).href) return;
    const follower = await follow.getActor(ctx);
    if (!isActor(follower)) return;
    state.followers.set(follower.id.href, follower);
    await ctx.sendActivity(
      { identifier: IDENTIFIER },
      follower,
      new Accept({ id: new URL(`${base}/accepts/${randomUUID()}`), actor: ctx.getActorUri(IDENTIFIER), object: follow }),
    );
  })
  .on(Accept, async (_ctx, accept) => {
    record(accept);
    if (accept.actorId) state.following.add(accept.actorId.href);
  })
  .on(Reject, async (_ctx, reject) => {
    record(reject);
    if (reject.actorId) state.following.delete(reject.actorId.href);
  })
  .on(Undo, async (_ctx, undo) => {
    record(undo);
    const raw = state.rawById.get(undo.id?.href);
    if (raw?.object?.type === "Follow" && undo.actorId) state.followers.delete(undo.actorId.href);
  })
  .on(Create, async (_ctx, create) => record(create))
  .on(Update, async (_ctx, update) => record(update))
  .on(Delete, async (_ctx, del) => record(del))
  .on(Like, async (_ctx, like) => record(like))
  .on(Announce, async (_ctx, announce) => record(announce))
  .on(Block, async (_ctx, block) => record(block))
  .onError(async (_ctx, err) => console.error("peer: inbox listener failed:", err));

async function handle(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url, base);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
    else if (v != null) headers.set(k, v);
  }
  const request = new Request(url, {
    method: req.method,
    headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
  });
  let response;
  if (url.pathname.startsWith("/_control/")) {
    response = await control(request, url, body);
  } else {
    const inbox = req.method === "POST" && url.pathname.endsWith("inbox");
    if (inbox) {
      try {
        const json = JSON.parse(body.toString("utf8"));
        if (typeof json.id === "string") state.rawById.set(json.id, json);
      } catch {
        // Fedify answers it.
      }
    }
    response = await federation.fetch(request, { contextData: undefined });
    if (inbox) {
      const entry = {
        path: url.pathname,
        status: response.status,
        scheme: headers.has("signature-input") ? "rfc9421" : headers.has("signature") ? "cavage" : "none",
        at: new Date().toISOString(),
      };
      if (response.status >= 400) entry.answer = await response.clone().text();
      state.inboxRequests.push(entry);
      console.error(`peer: inbox ${entry.path} (${entry.scheme}) → ${entry.status}`);
    }
  }
  const out = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(out);
}

function json(status, value) {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
}

async function lookupActor(ctx, iri) {
  const actor = await ctx.lookupObject(iri);
  if (!isActor(actor)) throw new Error(`${iri} is not an actor (got ${actor?.constructor?.name ?? "nothing"})`);
  return actor;
}

async function send(ctx, recipients, activity) {
  try {
    if (recipients === "followers" || recipients.length > 0) {
      await ctx.sendActivity({ identifier: IDENTIFIER }, recipients, activity);
    }
    return null;
  } catch (err) {
    return String(err?.message ?? err);
  }
}

async function control(request, url, body) {
  const ctx = federation.createContext(new URL(base), undefined);
  const input = request.method === "POST" && url.pathname !== "/_control/verify" && body.length ? JSON.parse(body.toString("utf8")) : {};
  const me = ctx.getActorUri(IDENTIFIER);
  try {
    switch (url.pathname) {
      case "/_control/info":
        return json(200, { actor: me.href, inbox: ctx.getInboxUri(IDENTIFIER).href, handle: `${IDENTIFIER}@${url.host}` });
      case "/_control/lookup": {
        const o = await ctx.lookupObject(input.url);
        if (o == null) return json(404, { error: `nothing found at ${input.url}` });
        const out = { id: o.id?.href ?? null, type: o.constructor.name, raw: await o.toJsonLd({ contextLoader: ctx.contextLoader }) };
        if (isActor(o)) {
          const key = await o.getPublicKey({ documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader });
          Object.assign(out, {
            preferredUsername: o.preferredUsername ?? null,
            inbox: o.inboxId?.href ?? null,
            sharedInbox: o.endpoints?.sharedInbox?.href ?? null,
            publicKeyId: key?.id?.href ?? null,
            publicKeyOwner: key?.ownerId?.href ?? null,
            publicKeyAlgorithm: key?.publicKey?.algorithm?.name ?? null,
          });
        }
        return json(200, out);
      }
      case "/_control/webfinger": {
        const jrd = await ctx.lookupWebFinger(input.resource);
        return jrd == null ? json(404, { error: `no WebFinger answer for ${input.resource}` }) : json(200, jrd);
      }
      case "/_control/verify": {
        const key = await verifyRequest(request, {
          documentLoader: ctx.documentLoader,
          contextLoader: ctx.contextLoader,
        });
        if (key == null) return json(401, { error: "signature not verified" });
        return json(200, { keyId: key.id?.href ?? null, owner: key.ownerId?.href ?? null });
      }
      case "/_control/follow": {
        const actor = await lookupActor(ctx, input.actor);
        const follow = new Follow({ id: new URL(`${base}/follows/${randomUUID()}`), actor: me, object: actor.id });
        const error = await send(ctx, [actor], follow);
        return error ? json(502, { error, id: follow.id.href }) : json(200, { id: follow.id.href });
      }
      case "/_control/unfollow": {
        const actor = await lookupActor(ctx, input.actor);
        const undo = new Undo({
          id: new URL(`${base}/undos/${randomUUID()}`),
          actor: me,
          object: new Follow({ id: new URL(input.follow ?? `${base}/follows/${randomUUID()}`), actor: me, object: actor.id }),
        });
        state.following.delete(actor.id.href);
        const error = await send(ctx, [actor], undo);
        return error ? json(502, { error }) : json(200, { id: undo.id.href });
      }
      case "/_control/post": {
        const id = new URL(`${base}/users/${IDENTIFIER}/notes/${randomUUID()}`);
        const followersUri = ctx.getFollowersUri(IDENTIFIER);
        const to = input.visibility === "followers" ? [followersUri] : [PUBLIC_COLLECTION];
        const cc = input.visibility === "followers" ? [] : [followersUri];
        const direct = [];
        const tags = [];
        let replyTarget = null;
        if (input.inReplyTo) {
          const parent = await ctx.lookupObject(input.inReplyTo);
          if (parent == null) return json(404, { error: `no object at ${input.inReplyTo}` });
          replyTarget = parent.id;
          if (parent.attributionId) {
            const author = await lookupActor(ctx, parent.attributionId.href);
            direct.push(author);
            cc.push(author.id);
            tags.push(new Mention({ href: author.id, name: `@${author.preferredUsername}@${author.id.host}` }));
          }
        }
        if (input.mention) {
          const actor = await lookupActor(ctx, input.mention);
          direct.push(actor);
          cc.push(actor.id);
          tags.push(new Mention({ href: actor.id, name: `@${actor.preferredUsername}@${actor.id.host}` }));
        }
        const note = new Note({
          id,
          attribution: me,
          content: input.content,
          tos: to,
          ccs: cc,
          tags,
          replyTarget,
          url: id,
        });
        state.notes.set(id.href, note);
        const create = new Create({
          id: new URL(`${id.href}/activity`),
          actor: me,
          object: note,
          tos: to,
          ccs: cc,
        });
        const errors = [];
        if (state.followers.size > 0) {
          const e = await send(ctx, "followers", create);
          if (e) errors.push(e);
        }
        const e = await send(ctx, direct, create);
        if (e) errors.push(e);
        return errors.length ? json(502, { error: errors.join("; "), id: id.href }) : json(200, { id: id.href, followers: state.followers.size });
      }
      case "/_control/like": {
        const object = await ctx.lookupObject(input.object);
        if (object == null || object.attributionId == null) return json(404, { error: `no attributed object at ${input.object}` });
        const author = await lookupActor(ctx, object.attributionId.href);
        const like = new Like({ id: new URL(`${base}/likes/${randomUUID()}`), actor: me, object: object.id });
        const error = await send(ctx, [author], like);
        return error ? json(502, { error, id: like.id.href }) : json(200, { id: like.id.href });
      }
      case "/_control/received":
        return json(200, { activities: state.received, inboxRequests: state.inboxRequests });
      case "/_control/followers":
        return json(200, [...state.followers.keys()]);
      case "/_control/following":
        return json(200, [...state.following]);
      default:
        return json(404, { error: `no control route ${url.pathname}` });
    }
  } catch (err) {
    console.error(`peer: ${url.pathname} failed:`, err);
    return json(500, { error: String(err?.message ?? err) });
  }
}

process.on("SIGTERM", () => server.close(() => process.exit(0)));
console.log(JSON.stringify({ base }));
