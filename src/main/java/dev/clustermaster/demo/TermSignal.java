package dev.clustermaster.demo;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;

/**
 * Runs a callback on SIGTERM/SIGINT instead of the JVM's default (exit 143 through shutdown hooks), so a drained
 * server can exit 0. Uses sun.misc.Signal (module jdk.unsupported) by reflection to keep javac from warning
 * about internal API; falls back to a shutdown hook where it is missing.
 */
final class TermSignal {

    private TermSignal() {
    }

    /** @return true if the signals are trapped; false if only a shutdown hook could be installed */
    static boolean onTerm(Runnable action) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            InvocationHandler call = (proxy, method, args) -> switch (method.getName()) {
                case "handle" -> {
                    action.run();
                    yield null;
                }
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> "TermSignal handler";
            };
            Object handler = Proxy.newProxyInstance(TermSignal.class.getClassLoader(), new Class<?>[] {handlerType}, call);
            for (String name : new String[] {"TERM", "INT"}) {
                Object sig = signal.getConstructor(String.class).newInstance(name);
                signal.getMethod("handle", signal, handlerType).invoke(null, sig, handler);
            }
            return true;
        } catch (ReflectiveOperationException | LinkageError | IllegalArgumentException e) {
            Runtime.getRuntime().addShutdownHook(new Thread(action, "demo-term"));
            return false;
        }
    }
}
