package io.splitfed.actors.wire;

import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Cluster-provider ActorSystems on 127.0.0.1, each on a free port, for the wire's two-node tests; closed together. */
final class LoopbackNodes implements AutoCloseable {

    private final List<ActorSystem<?>> systems = new ArrayList<>();

    /** A node with {@code extra} HOCON over the tests' config. */
    ActorSystem<Void> start(String extra) {
        var c = ConfigFactory.parseString("pekko.actor.provider = cluster\npekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                + "pekko.remote.artery.canonical.port = 0\npekko.loglevel = ERROR\npekko.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                + extra).withFallback(ConfigFactory.load());
        ActorSystem<Void> s = ActorSystem.create(Behaviors.empty(), "splitfed", c);
        systems.add(s);
        return s;
    }

    @Override
    public void close() throws Exception {
        systems.forEach(ActorSystem::terminate);
        for (ActorSystem<?> s : systems) {
            s.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        systems.clear();
    }
}
