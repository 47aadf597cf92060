"""Attachments in Redis (the store for a Redis deployment: any number of hub processes).

Keys (prefix ``fd:``): ``att:{<id>}:data`` the bytes, ``att:{<id>}:meta`` the metadata as
JSON, both with the configured time to live (`attachments.ttl`) and sharing a hash tag. On a
single Redis one `MULTI` writes both; on Redis Cluster (`redis+cluster://`) the bytes are
written first and the metadata last, so a reader that finds the metadata finds the bytes. ``attquota:<uploader>:<day>`` counts the
bytes an uploader stored that day (UTC); it is raised before the write and lowered again
if the quota is passed or the write fails, so concurrent uploads cannot overshoot it.
Redis keeps every byte in memory: the size limit, the quota and the expiry are what stop a
busy channel from eating it.
"""

from __future__ import annotations

import json
import time

from redis.asyncio import Redis, RedisCluster

from hub.attachments import (
    MEGABYTE,
    AttachmentRefused,
    AttachmentSettings,
    AttachmentStore,
    StoredAttachment,
)
from hub.store_redis_connect import CONNECT_TIMEOUT, is_cluster_url

DAY = 24 * 3600


class RedisAttachments(AttachmentStore):
    """`AttachmentStore` on Redis."""

    def __init__(self, url: str, settings: AttachmentSettings, *, prefix: str = "fd:") -> None:
        super().__init__(settings)
        self.url = url
        self.prefix = prefix
        self._redis: Redis | RedisCluster | None = None
        self._cluster = is_cluster_url(url)

    async def open(self) -> None:
        if self._cluster:
            # redis-py names cluster nodes with the plain schemes; bytes stay bytes here.
            plain = self.url.replace("+cluster://", "://", 1)
            self._redis = RedisCluster.from_url(plain, socket_connect_timeout=CONNECT_TIMEOUT)
        else:
            self._redis = Redis.from_url(self.url, socket_connect_timeout=CONNECT_TIMEOUT)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    @property
    def redis(self) -> Redis | RedisCluster:
        if self._redis is None:
            raise RuntimeError("the attachment store is not open")
        return self._redis

    def _key(self, attachment_id: str, part: str) -> str:
        return f"{self.prefix}att:{{{attachment_id}}}:{part}"

    async def _keep(self, stored: StoredAttachment, data: bytes) -> None:
        quota = self.settings.daily_quota_bytes
        counter = f"{self.prefix}attquota:{stored.uploader}:{int(time.time() // DAY)}"
        if quota:
            used = int(await self.redis.incrby(counter, stored.size))
            await self.redis.expire(counter, 2 * DAY)
            if used > quota:
                await self.redis.decrby(counter, stored.size)
                megabytes = f"{quota / MEGABYTE:g}"
                raise AttachmentRefused(
                    f"the daily quota of {megabytes} MB of files is used up; try tomorrow",
                    f"今日 {megabytes} MB 的文件额度已用完，请明天再试",
                    status=429,
                    code="quota",
                )
        ttl = max(1, int(self.settings.ttl))
        meta = json.dumps(stored.to_json())
        try:
            if isinstance(self.redis, RedisCluster):
                await self.redis.set(self._key(stored.id, "data"), data, ex=ttl)
                await self.redis.set(self._key(stored.id, "meta"), meta, ex=ttl)
            else:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.set(self._key(stored.id, "data"), data, ex=ttl)
                    pipe.set(self._key(stored.id, "meta"), meta, ex=ttl)
                    await pipe.execute()
        except BaseException:
            if quota:
                await self.redis.decrby(counter, stored.size)
            raise

    async def _meta(self, attachment_id: str) -> StoredAttachment | None:
        raw = await self.redis.get(self._key(attachment_id, "meta"))
        return StoredAttachment.from_json(json.loads(raw)) if raw else None

    async def _read(self, attachment_id: str) -> bytes | None:
        raw = await self.redis.get(self._key(attachment_id, "data"))
        if raw is None:
            return None
        return raw if isinstance(raw, bytes) else raw.encode()


__all__ = ["RedisAttachments"]
