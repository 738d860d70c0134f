package dev.clustermaster.config;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * How a Java worker is launched: the user's main class and class path, then the master's worker bootstrap
 * (the thin worker jar: {@code WorkerMain} and the worker API, nothing else) appended, so any main class runs and
 * the user's own classes win. Checked when the master starts: a missing jar or class is a {@link ConfigException}, not a
 * crash loop.
 *
 * @param mainClass the class whose main the worker runs
 * @param classpath the worker JVM's -cp entries: the user's first, then the bootstrap
 * @param warning one line for the master to log at start when the bootstrap fell back to the master's jar
 */
public record JavaLaunch(String mainClass, List<String> classpath, Optional<String> warning) {

    /** The worker bootstrap: it connects to the master, then runs the user's main. */
    public static final String WORKER_MAIN = "dev.clustermaster.worker.WorkerMain";
    private static final String WORKER_JAR_SUFFIX = "-worker";

    public JavaLaunch {
        classpath = List.copyOf(classpath);
    }

    /** The -cp value. */
    public String classpathString() {
        return String.join(File.pathSeparator, classpath);
    }

    /**
     * @param mainClass explicit main class, or null to take the jar's Main-Class
     * @param userClasspath the user's class path ({@code a.jar:lib/*:classes}), or null
     * @param jar an application jar (its manifest's Class-Path is honoured by the JVM), or null
     * @param masterClasspath the master's own class path, used when neither a jar nor a class path is given
     */
    static JavaLaunch resolve(String mainClass, String userClasspath, String jar, String masterClasspath) {
        return resolve(mainClass, userClasspath, jar, masterClasspath, codeSource(WORKER_MAIN));
    }

    /** @param home where the master's WorkerMain was loaded from */
    static JavaLaunch resolve(String mainClass, String userClasspath, String jar, String masterClasspath, Optional<Path> home) {
        List<String> user = new ArrayList<>();
        String main = mainClass;
        if (jar != null) {
            Path jarPath = Path.of(jar).toAbsolutePath();
            if (!Files.isRegularFile(jarPath) || !Files.isReadable(jarPath)) {
                throw new ConfigException("jar: " + jarPath + " does not exist or is not readable (fix --jar / jar=)");
            }
            if (main == null) {
                main = manifestMainClass(jarPath).orElseThrow(() -> new ConfigException(
                        "jar: " + jarPath + " has no Main-Class in its manifest (give the class with --main / main=)"));
            }
            user.add(jarPath.toString());
        }
        if (userClasspath != null) {
            for (String entry : split(userClasspath)) {
                String bare = entry.endsWith("*") ? entry.substring(0, entry.length() - 1) : entry;
                if (!Files.exists(Path.of(bare.isEmpty() ? "." : bare))) {
                    throw new ConfigException("classpath: " + entry + " does not exist (fix --classpath / classpath=)");
                }
                user.add(entry);
            }
        } else if (jar == null) {
            user.addAll(split(masterClasspath));
        }
        requireClass(main, user, jar != null ? "--jar/--main" : userClasspath != null ? "--main/--classpath" : "--main");
        LinkedHashSet<String> all = new LinkedHashSet<>(user);
        all.addAll(bootstrap(home, masterClasspath));
        return new JavaLaunch(main, new ArrayList<>(all), fallbackWarning(home, user));
    }

    /**
     * The line that makes the fallback to the master's jar visible (it once crash-looped a logback 1.2 app with
     * AbstractMethodError): none when the worker jar is there or the user's class path already is the master's.
     */
    private static Optional<String> fallbackWarning(Optional<Path> home, List<String> user) {
        if (home.isEmpty() || !Files.isRegularFile(home.get())) {
            return Optional.empty();
        }
        Path master = home.get();
        Path thin = workerJarBeside(master);
        if (Files.isRegularFile(thin) || user.stream().anyMatch(e -> Path.of(e).toAbsolutePath().normalize().equals(master))) {
            return Optional.empty();
        }
        return Optional.of(thin.getFileName() + " not found beside " + master + ": Java workers get the master's jar on "
                + "their class path (its logback, slf4j and jnr may clash with the app's); install the worker jar as " + thin
                + " (the packages ship it; a build makes target/cluster-master-VERSION-worker.jar)");
    }

    /**
     * Where the worker bootstrap lives: the thin worker jar beside the master's jar ({@link #workerJarBeside}),
     * which holds only {@code dev.clustermaster.worker} (pure JDK), so the worker's class path carries none of the
     * master's libraries (logback, slf4j, picocli, jnr) to clash with the app's own. Without one (a master jar
     * copied alone) the master's jar, as before; run from class directories (tests, an IDE) the directory that
     * holds WorkerMain; else the master's whole class path.
     *
     * @param home where the master's WorkerMain was loaded from
     */
    static List<String> bootstrap(Optional<Path> home, String masterClasspath) {
        if (home.isPresent() && Files.isRegularFile(home.get())) {
            Path thin = workerJarBeside(home.get());
            return List.of((Files.isRegularFile(thin) ? thin : home.get()).toString());
        }
        if (home.isPresent() && Files.isDirectory(home.get())) {
            return List.of(home.get().toString());
        }
        return split(masterClasspath);
    }

    /**
     * The worker jar that belongs to a master jar: {@code cluster-master.jar -> cluster-master-worker.jar} (the
     * packages), {@code cluster-master-0.1.0-all.jar -> cluster-master-0.1.0-worker.jar} (the build). A worker jar
     * is its own.
     */
    static Path workerJarBeside(Path masterJar) {
        String name = masterJar.getFileName().toString();
        String base = name.endsWith(".jar") ? name.substring(0, name.length() - ".jar".length()) : name;
        if (base.endsWith(WORKER_JAR_SUFFIX)) {
            return masterJar;
        }
        base = base.endsWith("-all") ? base.substring(0, base.length() - "-all".length()) : base;
        return masterJar.resolveSibling(base + WORKER_JAR_SUFFIX + ".jar");
    }

    static Optional<String> manifestMainClass(Path jar) {
        try (JarFile f = new JarFile(jar.toFile())) {
            if (f.getManifest() == null) {
                return Optional.empty();
            }
            String main = f.getManifest().getMainAttributes().getValue(Attributes.Name.MAIN_CLASS);
            return main == null || main.isBlank() ? Optional.empty() : Optional.of(main.trim());
        } catch (IOException e) {
            throw new ConfigException("jar: cannot read " + jar + " as a jar (" + e.getMessage() + "; fix --jar / jar=)");
        }
    }

    /** Looks the class file up without loading it (no static initialiser runs in the master). */
    private static void requireClass(String main, List<String> classpath, String options) {
        if (!main.matches("[\\p{L}_$][\\p{L}\\p{N}_$]*(\\.[\\p{L}_$][\\p{L}\\p{N}_$]*)*")) {
            throw new ConfigException("main: '" + main + "' is not a class name like com.example.Server (fix " + options + ")");
        }
        String resource = main.replace('.', '/') + ".class";
        try (URLClassLoader loader = new URLClassLoader(urls(classpath), ClassLoader.getPlatformClassLoader())) {
            if (loader.findResource(resource) == null) {
                throw new ConfigException("main: class " + main + " not found in " + String.join(File.pathSeparator, classpath)
                        + " (fix " + options + ")");
            }
        } catch (IOException e) {
            throw new ConfigException("main: cannot search the class path for " + main + ": " + e.getMessage());
        }
    }

    private static URL[] urls(List<String> classpath) {
        List<URL> urls = new ArrayList<>();
        for (String entry : classpath) {
            try {
                if (entry.endsWith("*")) {
                    Path dir = Path.of(entry.substring(0, entry.length() - 1).isEmpty() ? "." : entry.substring(0, entry.length() - 1));
                    try (Stream<Path> files = Files.list(dir)) {
                        for (Path p : files.filter(p -> p.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".jar")).sorted().toList()) {
                            urls.add(p.toUri().toURL());
                        }
                    }
                } else {
                    urls.add(Path.of(entry).toAbsolutePath().toUri().toURL());
                }
            } catch (IOException e) {
                throw new ConfigException("classpath: cannot read " + entry + ": " + e.getMessage());
            }
        }
        return urls.toArray(URL[]::new);
    }

    private static List<String> split(String classpath) {
        if (classpath == null || classpath.isBlank()) {
            return List.of();
        }
        return Stream.of(classpath.split(File.pathSeparator)).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static Optional<Path> codeSource(String className) {
        try {
            return codeSource(Class.forName(className, false, JavaLaunch.class.getClassLoader()));
        } catch (ClassNotFoundException | LinkageError e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> codeSource(Class<?> type) {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Path.of(source.getLocation().toURI()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
