# bootplane controller image: Node 24 on distroless, non-root, production dependencies only,
# with Debian's iPXE binaries for the TFTP first hop.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY hack/build-console.ts ./hack/
RUN npx tsc -p tsconfig.build.json && npx tsx hack/build-console.ts && npm prune --omit=dev

FROM debian:bookworm-slim AS ipxe
RUN apt-get update && apt-get install -y --no-install-recommends ipxe && rm -rf /var/lib/apt/lists/*

# The userspace iSCSI target for diskless sessions (the chart's diskless.targetHost): tgtd and
# tgtadm with the shared libraries tgtd links, which distroless lacks.
FROM debian:bookworm-slim AS tgt
RUN apt-get update && apt-get install -y --no-install-recommends tgt && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /out/usr/sbin /out/lib \
 && cp /usr/sbin/tgtd /usr/sbin/tgtadm /out/usr/sbin/ \
 && ldd /usr/sbin/tgtd | awk '/=> \// {print $3}' | grep -v -E '/libc\.so|/ld-linux' | xargs -I{} cp -L {} /out/lib/

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=ipxe /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi /usr/lib/ipxe/snponly.efi /usr/lib/ipxe/
COPY --from=tgt /out/usr/sbin/ /usr/sbin/
COPY --from=tgt /out/lib/ /usr/lib/x86_64-linux-gnu/
USER 65532:65532
EXPOSE 8080 8081 8082 8083
# Memory: V8's young generation capped at 4 MiB semi-spaces (the default lets it grow to 32 MiB
# under a burst of reconciles and keep it); the old generation grown by 20 % over what survived
# a full collection rather than V8's default factor (which let the heap run 30-40 MiB ahead of
# the live objects at 10,000 VMs); two malloc arenas instead of one per thread, and glibc's
# mmap and trim thresholds fixed at their 128 KiB defaults (otherwise glibc raises them after
# the first large response is freed, and later ones stay in its heap for good).
# --expose-gc lets the controller run one full collection once its work queues drain after a
# burst (src/controllers/idle-collection.ts): otherwise an idle controller keeps the heap the
# burst needed. docs/performance.md has the figures. The scale benchmarks run the controller
# with these.
ENV MALLOC_ARENA_MAX=2
ENV MALLOC_MMAP_THRESHOLD_=131072
ENV MALLOC_TRIM_THRESHOLD_=131072
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=4", "--heap-growing-percent=20", "--expose-gc", "/app/dist/src/cli/main.js"]
CMD ["controller"]
