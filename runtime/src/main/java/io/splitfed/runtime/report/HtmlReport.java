package io.splitfed.runtime.report;

import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.node.AbstractVisitor;
import org.commonmark.node.Image;
import org.commonmark.node.Node;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/**
 * An experiment's markdown report as one self-contained HTML page: tables rendered, and every
 * PNG it links to embedded, so the page can be mailed or attached as it is.
 */
public final class HtmlReport {

    private static final List<org.commonmark.Extension> EXTENSIONS = List.of(TablesExtension.create());

    private static final String STYLE = """
            body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
            table { border-collapse: collapse; margin: 1em 0; }
            th, td { border: 1px solid #ccc; padding: 4px 8px; }
            td { text-align: right; } td:first-child { text-align: left; }
            th { background: #f3f3f3; }
            img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
            code { background: #f6f6f6; padding: 1px 4px; }
            """;

    private HtmlReport() {}

    /** The page for {@code markdown}, whose image links are relative to {@code dir}. */
    public static String render(String title, String markdown, Path dir) {
        Parser parser = Parser.builder().extensions(EXTENSIONS).build();
        Node doc = parser.parse(markdown);
        doc.accept(new AbstractVisitor() {
            @Override
            public void visit(Image image) {
                Path png = dir.resolve(image.getDestination());
                if (image.getDestination().endsWith(".png") && Files.isRegularFile(png)) {
                    try {
                        image.setDestination("data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(png)));
                    } catch (IOException e) {
                        throw new UncheckedIOException("could not read the figure " + png, e);
                    }
                }
                visitChildren(image);
            }
        });
        String body = HtmlRenderer.builder().extensions(EXTENSIONS).build().render(doc);
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title><style>" + STYLE + "</style></head>\n<body>\n"
                + body + "</body></html>\n";
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
