"""NNTP reader (RFC 3977) server side: what nntplib needs to read an article.

nntplib reads the greeting, sends CAPABILITIES at once, then MODE READER if
asked; a reader then sends GROUP and ARTICLE/HEAD/BODY/STAT by number or by
message-id, and QUIT. DATE, LIST (ACTIVE) and NEXT/LAST come cheap and are
answered too. Articles come from world.toml `[[article]]`; the world is
read-only (no POST). Every malformed or out-of-order command gets its RFC
3977 error code (500, 501, 412, 420, 423, 430).
"""

from __future__ import annotations

import time

from fakenet.protocols.lines import CommandLineServer, LineBuffer, dot_stuff
from fakenet.sansio import Action, Close, Note, Send
from fakenet.world import Article, Binding, World

LINE_LIMIT = 512  # RFC 3977 3.1: a command line is at most 512 octets

CAPABILITIES = ("VERSION 2", "READER", "LIST ACTIVE NEWSGROUPS", "IMPLEMENTATION fakenet")


def reply(code: int, text: str) -> Send:
    return Send(f"{code} {text}\r\n".encode())


def groups(world: World) -> dict[str, list[Article]]:
    """The world's articles by group, in number order."""
    found: dict[str, list[Article]] = {}
    for article in world.articles:
        found.setdefault(article.group, []).append(article)
    for articles in found.values():
        articles.sort(key=lambda a: a.number)
    return found


def wire(article: Article) -> bytes:
    return article.text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


class NntpServer(CommandLineServer):
    """One NNTP session."""

    def __init__(self, world: World, binding: Binding) -> None:
        self.world = world
        self.binding = binding
        self.lines = LineBuffer(LINE_LIMIT)
        self.groups = groups(world)
        self.group: str | None = None
        self.current: int | None = None
        self.closed = False

    def connection_made(self) -> list[Action]:
        return [reply(201, "fakenet NNTP service ready, posting prohibited")]

    def error_reply(self, text: str) -> Send:
        return reply(501, text)

    def command(self, line: bytes) -> list[Action]:
        words = line.decode("utf-8", "replace").split()
        if not words:
            return [reply(500, "empty command")]
        verb, args = words[0].upper(), words[1:]
        if verb == "QUIT":
            self.closed = True
            return [reply(205, "bye"), Close()]
        if verb == "CAPABILITIES":
            listing = "".join(c + "\r\n" for c in CAPABILITIES) + ".\r\n"
            return [reply(101, "capability list follows"), Send(listing.encode())]
        if verb == "MODE":
            if [a.upper() for a in args] != ["READER"]:
                return [reply(501, "only MODE READER is known")]
            return [reply(201, "reader mode, posting prohibited")]
        if verb == "DATE":
            return [reply(111, time.strftime("%Y%m%d%H%M%S", time.gmtime()))]
        if verb == "LIST":
            return self.list_(args)
        if verb == "GROUP":
            return self.select(args)
        if verb in ("ARTICLE", "HEAD", "BODY", "STAT"):
            return self.article(verb, args)
        if verb in ("NEXT", "LAST"):
            return self.step(verb)
        if verb == "POST":
            return [reply(440, "posting not permitted")]
        return [reply(500, f"unknown command {verb[:20]}")]

    def list_(self, args: list[str]) -> list[Action]:
        keyword = args[0].upper() if args else "ACTIVE"
        if keyword not in ("ACTIVE", "NEWSGROUPS"):
            return [reply(501, f"LIST {keyword[:20]} is not supported")]
        rows = []
        for name, articles in sorted(self.groups.items()):
            if keyword == "ACTIVE":
                rows.append(f"{name} {articles[-1].number} {articles[0].number} n")
            else:
                rows.append(f"{name} fakenet group")
        listing = "".join(r + "\r\n" for r in rows) + ".\r\n"
        return [reply(215, "list follows"), Send(listing.encode())]

    def select(self, args: list[str]) -> list[Action]:
        if len(args) != 1:
            return [reply(501, "GROUP needs one group name")]
        articles = self.groups.get(args[0])
        if articles is None:
            return [reply(411, "no such newsgroup")]
        self.group, self.current = args[0], articles[0].number
        first, last = articles[0].number, articles[-1].number
        return [reply(211, f"{len(articles)} {first} {last} {args[0]}")]

    def article(self, verb: str, args: list[str]) -> list[Action]:
        if len(args) > 1:
            return [reply(501, f"{verb} takes at most one argument")]
        if args and args[0].startswith("<"):
            found = [a for a in self.world.articles if a.message_id == args[0]]
            if not found:
                return [reply(430, "no article with that message-id")]
            article, number = found[0], 0
        else:
            if self.group is None:
                return [reply(412, "no newsgroup selected")]
            if not args:
                if self.current is None:
                    return [reply(420, "current article number is invalid")]
                wanted = self.current
            elif args[0].isdigit():
                wanted = int(args[0])
            else:
                return [reply(501, "bad article number")]
            found = [a for a in self.groups[self.group] if a.number == wanted]
            if not found:
                return [reply(423, "no article with that number")]
            article = found[0]
            number = self.current = article.number
        data = wire(article)
        head, _, body = data.partition(b"\r\n\r\n")
        code, block = {
            "ARTICLE": (220, data), "HEAD": (221, head + b"\r\n"),
            "BODY": (222, body), "STAT": (223, None),
        }[verb]
        actions: list[Action] = [reply(code, f"{number} {article.message_id}")]
        if block is not None:
            actions.append(Send(dot_stuff(block)))
        if verb == "ARTICLE":
            actions.insert(0, Note("nntp-article", {
                "group": article.group, "number": article.number,
                "message_id": article.message_id}, data))
        return actions

    def step(self, verb: str) -> list[Action]:
        if self.group is None:
            return [reply(412, "no newsgroup selected")]
        if self.current is None:
            return [reply(420, "current article number is invalid")]
        numbers = [a.number for a in self.groups[self.group]]
        index = numbers.index(self.current) + (1 if verb == "NEXT" else -1)
        if not 0 <= index < len(numbers):
            return [reply(421 if verb == "NEXT" else 422, f"no {verb.lower()} article")]
        self.current = numbers[index]
        article = self.groups[self.group][index]
        return [reply(223, f"{article.number} {article.message_id}")]
