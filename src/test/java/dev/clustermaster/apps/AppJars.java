package dev.clustermaster.apps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Builds a real application jar from compiled test classes, as a user's build would. */
public final class AppJars {
    private AppJars() {
    }

    /**
     * @param mainClass the manifest's Main-Class, or null for none
     * @param classPath the manifest's Class-Path, or null
     * @param classes classes copied into the jar (with their nested classes)
     */
    public static Path build(Path jar, String mainClass, String classPath, Class<?>... classes) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (mainClass != null) {
            m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass);
        }
        if (classPath != null) {
            m.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
        }
        Files.createDirectories(jar.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            for (Class<?> c : classes) {
                copy(j, c);
                for (Class<?> nested : c.getDeclaredClasses()) {
                    copy(j, nested);
                }
            }
        }
        return jar;
    }

    private static void copy(JarOutputStream j, Class<?> c) throws IOException {
        String name = c.getName().replace('.', '/') + ".class";
        try (InputStream in = c.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("no class file for " + c.getName());
            }
            j.putNextEntry(new JarEntry(name));
            in.transferTo(j);
            j.closeEntry();
        }
    }
}
