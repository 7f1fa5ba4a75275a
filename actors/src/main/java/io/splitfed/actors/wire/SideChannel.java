package io.splitfed.actors.wire;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;

import com.typesafe.config.Config;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * Tensors between nodes, off Artery: a sender holds a tensor message here and sends its
 * {@link Claim} through Artery instead; the recipient's {@link Inbound} edge pulls the message from
 * the sender's side channel, over a TCP connection (TLS when Artery's is) of its own per pair of
 * nodes, and handles it in the claim's place. Kryo writes the message onto the socket through a
 * 1 MiB buffer and the recipient decodes it as it arrives ({@link SideChannelStreams}): one copy
 * on each side. On Artery each frame is copied about six times ({@code splitfed bench --suite wire}).
 *
 * <p>Pulling, not pushing, is what lets a claim go through cluster sharding: the sender need not
 * know which node hosts the shard. Back-pressure stays the devices' credit windows; a claim's
 * message is pulled once, and one not pulled within {@code hold} is dropped, as a lost message
 * is: its device resends. A claim for this very channel (a recipient in the same ActorSystem)
 * takes the message without bytes.
 *
 * <p>One per ActorSystem of a cluster, started on first use; settings under
 * {@code splitfed.wire.side-channel}.
 */
public final class SideChannel implements Extension {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SideChannel.class);
    private static final SecureRandom IDS = new SecureRandom();

    private record Held(Object message, long since) {}

    private final ActorSystem<?> system;
    private final long minBytes;
    private final long holdNanos;
    private final Duration fetchTimeout;
    private final long depot = IDS.nextLong();
    private final Map<Long, Held> held = new ConcurrentHashMap<>();
    private final Map<String, SideChannelFetcher> fetchers = new ConcurrentHashMap<>();
    private final ExecutorService io;
    private final SideChannelTls tls;
    private final SideChannelServer server;
    private final String host;
    private final int port;
    private volatile KryoSerializer kryo;

    private SideChannel(ActorSystem<?> system) {
        this.system = system;
        Config c = system.settings().config();
        Config side = c.getConfig("splitfed.wire.side-channel");
        this.minBytes = side.getBytes("min-bytes");
        this.holdNanos = side.getDuration("hold").toNanos();
        this.fetchTimeout = side.getDuration("fetch-timeout");
        SideChannelTls tls = null;
        SideChannelServer server = null;
        String host = null;
        if (Wire.remote(c) && side.getBoolean("enabled")) {
            Config artery = c.getConfig("pekko.remote.artery");
            boolean usesTls = artery.getString("transport").equals("tls-tcp");
            if (usesTls && !artery.getString("ssl.ssl-engine-provider").equals(SideChannelTls.CONFIG_PROVIDER)) {
                LOG.warn("splitfed.wire.side-channel is off: Artery's TLS uses {}, and the side channel takes its TLS only from {}; tensors go on Artery",
                        artery.getString("ssl.ssl-engine-provider"), SideChannelTls.CONFIG_PROVIDER);
            } else {
                tls = usesTls ? SideChannelTls.of(artery, fetchTimeout) : null;
                host = system.address().getHost().orElseThrow();
                String bind = artery.getString("bind.hostname");
                try {
                    ServerSocketChannel socket = ServerSocketChannel.open();
                    socket.bind(new InetSocketAddress(bind.isEmpty() ? host : bind, side.getInt("port")));
                    server = new SideChannelServer(socket, tls, this::take, this::serializer, system.name());
                } catch (IOException e) {
                    throw new IllegalStateException("splitfed.wire.side-channel.port = " + side.getInt("port") + ": cannot listen on "
                            + (bind.isEmpty() ? host : bind) + ": " + e.getMessage(), e);
                }
            }
        }
        this.tls = tls;
        this.server = server;
        this.host = host;
        this.port = server == null ? -1 : server.port();
        this.io = server == null ? null : Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "splitfed-side-channel-request");
            t.setDaemon(true);
            return t;
        });
        if (server != null) {
            server.start();
            Duration quarterHold = side.getDuration("hold").dividedBy(4);
            Duration halfTimeout = fetchTimeout.dividedBy(2);
            Duration sweep = quarterHold.compareTo(halfTimeout) < 0 ? quarterHold : halfTimeout;
            system.scheduler().scheduleAtFixedRate(sweep, sweep, this::sweep, system.executionContext());
            system.getWhenTerminated().whenComplete((done, err) -> close());
            LOG.debug("side channel of {} listening on {}:{}{}", system.address(), host, port, tls == null ? "" : " (TLS)");
        }
    }

    private static final ExtensionId<SideChannel> ID = new ExtensionId<>() {
        @Override
        public SideChannel createExtension(ActorSystem<?> system) {
            return new SideChannel(system);
        }
    };

    public static SideChannel get(ActorSystem<?> system) {
        return ID.apply(system);
    }

    /** Whether {@code message} goes by this channel: a tensor message of at least {@code min-bytes}, in a cluster, with the channel on. */
    boolean carries(Object message) {
        return server != null && message instanceof WireMessage w && w.bulkBytes() > 0 && w.bulkBytes() >= minBytes;
    }

    /** Holds {@code message} until its claim is pulled, or for {@code hold}. */
    Claim hold(WireMessage message) {
        long id = IDS.nextLong();
        held.put(id, new Held(message, System.nanoTime()));
        return new Claim(id, host, port, depot);
    }

    /** The claimed message: taken here when the claim is this channel's, else pulled from its node; null, logged, when it is gone. */
    CompletableFuture<Object> fetch(Claim claim) {
        if (claim.depot() == depot) {
            Held h = held.remove(claim.id());
            if (h == null) {
                LOG.warn("claim {} of this node was already taken or dropped after {}", claim.id(), Duration.ofNanos(holdNanos));
            }
            return CompletableFuture.completedFuture(h == null ? null : h.message());
        }
        if (server == null) {
            LOG.warn("dropped a claim from {}:{}: this node's side channel is off (splitfed.wire.side-channel.enabled)", claim.host(), claim.port());
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Object> result = new CompletableFuture<>();
        SideChannelFetcher open = fetchers.get(claim.host() + ":" + claim.port());
        if (open != null && open.isConnected() && open.request(claim.id(), result)) {
            return logged(claim, result); // 8 bytes on an open connection: no thread hop
        }
        try {
            io.execute(() -> {
                while (!fetcher(claim).request(claim.id(), result)) {
                    // closed (idle or broken) between the lookup and the request: the next lookup opens another
                }
            });
        } catch (RejectedExecutionException stopping) {
            result.completeExceptionally(new IOException("this node is shutting down"));
        }
        return logged(claim, result);
    }

    private static CompletableFuture<Object> logged(Claim claim, CompletableFuture<Object> result) {
        return result.exceptionally(e -> {
            LOG.warn("dropped a tensor message from {}:{} (claim {}): {}", claim.host(), claim.port(), claim.id(), e.getMessage());
            return null;
        });
    }

    private Object take(long id) {
        Held h = held.remove(id);
        return h == null ? null : h.message();
    }

    private SideChannelFetcher fetcher(Claim claim) {
        String origin = claim.host() + ":" + claim.port();
        return fetchers.compute(origin, (k, f) -> f == null || f.isClosed()
                ? new SideChannelFetcher(claim.host(), claim.port(), tls, serializer(), fetchTimeout, Duration.ofNanos(holdNanos)) : f);
    }

    private KryoSerializer serializer() {
        if (kryo == null) {
            kryo = (KryoSerializer) SerializationExtension.get(Adapter.toClassic(system)).findSerializerFor(new Claim(0, "", 0, 0));
        }
        return kryo;
    }

    private void sweep() {
        long now = System.nanoTime();
        int before = held.size();
        held.values().removeIf(h -> now - h.since() > holdNanos);
        if (held.size() < before) {
            LOG.info("dropped {} tensor messages not pulled within {}", before - held.size(), Duration.ofNanos(holdNanos));
        }
        fetchers.values().forEach(SideChannelFetcher::expire);
        fetchers.values().removeIf(SideChannelFetcher::isClosed); // broken or idle: the next pull from there connects again
    }

    private void close() {
        server.close();
        fetchers.values().forEach(SideChannelFetcher::close);
        io.shutdownNow();
        held.clear();
    }

    /** Connections this node pulls over (for tests). */
    int connections() {
        return fetchers.size();
    }

    /** Messages held, not yet pulled (for tests). */
    int holding() {
        return held.size();
    }
}
