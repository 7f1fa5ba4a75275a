package io.splitfed.actors.wire;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

import com.typesafe.config.Config;

import java.util.Arrays;
import java.util.List;

/**
 * Artery's large-message stream as splitfed uses it: the recipients that
 * {@code pekko.remote.artery.large-message-destinations} names get their messages on a TCP stream of
 * their own, in frames of up to {@code maximum-large-frame-size}. A tensor message bound for such a
 * recipient, that fits one such frame, goes whole: Artery serializes it once, straight into its frame
 * buffer, and the recipient decodes it from that buffer, with no parts to cut and put back together.
 * Patterns are matched as Artery matches them: segment by segment, {@code *} standing for any one
 * name. One per ActorSystem, read from its config once (an extension), as every message sent
 * asks it.
 */
final class BulkLane implements Extension {

    /** Room left in a frame for what a message's {@link WireMessage#bulkBytes} leaves out (Artery's header, small fields). */
    static final long HEADROOM = 256 * 1024;

    private final List<String[]> destinations;
    private final long frameBytes;

    private BulkLane(List<String[]> destinations, long frameBytes) {
        this.destinations = destinations;
        this.frameBytes = frameBytes;
    }

    private static final ExtensionId<BulkLane> ID = new ExtensionId<>() {
        @Override
        public BulkLane createExtension(ActorSystem<?> system) {
            return of(system.settings().config());
        }
    };

    static BulkLane get(ActorSystem<?> system) {
        return ID.apply(system);
    }

    static BulkLane of(Config c) {
        List<String[]> patterns = c.getStringList("pekko.remote.artery.large-message-destinations").stream().map(BulkLane::segments).toList();
        return new BulkLane(patterns, c.getBytes("pekko.remote.artery.advanced.maximum-large-frame-size"));
    }

    /** Whether {@code message}, sent to {@code recipient}, goes whole on the large-message stream. */
    boolean carries(String recipientPath, Object message) {
        if (!(message instanceof WireMessage w) || w.bulkBytes() <= 0 || w.bulkBytes() + HEADROOM > frameBytes) {
            return false;
        }
        String[] path = segments(recipientPath);
        return destinations.stream().anyMatch(p -> matches(p, path));
    }

    private static boolean matches(String[] pattern, String[] path) {
        if (pattern.length != path.length) {
            return false;
        }
        for (int i = 0; i < pattern.length; i++) {
            if (!pattern[i].equals("*") && !pattern[i].equals(path[i])) {
                return false;
            }
        }
        return true;
    }

    private static String[] segments(String path) {
        return Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
    }
}
