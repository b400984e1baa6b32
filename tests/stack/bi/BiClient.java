// Test harness (never shipped): drives the Trino JDBC driver the way a BI tool (Tableau) does.
//
// Usage: java -cp trino-jdbc.jar:. BiClient URL USER metadata CATALOG TABLE_SCHEMA TABLE
//        java -cp trino-jdbc.jar:. BiClient URL USER query SQL
// Prints one JSON document on stdout; a SQLException prints {"error": message} and exits 3.
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public final class BiClient {
    private BiClient() {}

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        try (Connection conn = DriverManager.getConnection(args[0], props)) {
            String out = args[2].equals("metadata") ? metadata(conn, args[3], args[4], args[5]) : query(conn, args[3]);
            System.out.println(out);
        } catch (SQLException e) {
            System.out.println("{\"error\": " + str(e.getMessage()) + "}");
            System.exit(3);
        }
    }

    /** What a BI tool's data-source pane asks for: catalogs, schemas, tables, one table's columns. */
    static String metadata(Connection conn, String catalog, String schema, String table) throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        List<String> parts = new ArrayList<>();
        parts.add("\"driver\": " + str(md.getDriverName() + " " + md.getDriverVersion()));
        parts.add("\"product\": " + str(md.getDatabaseProductName() + " " + md.getDatabaseProductVersion()));
        parts.add("\"catalogs\": " + column(md.getCatalogs(), "TABLE_CAT"));
        parts.add("\"schemas\": " + column(md.getSchemas(catalog, null), "TABLE_SCHEM"));
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = md.getTables(catalog, null, "%", new String[] {"TABLE"})) {
            while (rs.next()) {
                tables.add(str(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME")));
            }
        }
        parts.add("\"tables\": [" + String.join(", ", tables) + "]");
        List<String> cols = new ArrayList<>();
        try (ResultSet rs = md.getColumns(catalog, schema, table, "%")) {
            while (rs.next()) {
                cols.add("[" + str(rs.getString("COLUMN_NAME")) + ", " + str(rs.getString("TYPE_NAME")) + ", "
                         + rs.getInt("DATA_TYPE") + "]");
            }
        }
        parts.add("\"columns\": [" + String.join(", ", cols) + "]");
        return "{" + String.join(", ", parts) + "}";
    }

    /** One statement: column labels, JDBC type names, and every row as strings (getString, as Tableau reads). */
    static String query(Connection conn, String sql) throws SQLException {
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            List<String> names = new ArrayList<>();
            List<String> types = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                names.add(str(md.getColumnLabel(i)));
                types.add(str(md.getColumnTypeName(i)));
            }
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> cells = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    cells.add(str(rs.getString(i)));
                }
                rows.add("[" + String.join(", ", cells) + "]");
            }
            return "{\"columns\": [" + String.join(", ", names) + "], \"types\": [" + String.join(", ", types)
                + "], \"rows\": [" + String.join(", ", rows) + "]}";
        }
    }

    static String column(ResultSet rs, String name) throws SQLException {
        List<String> values = new ArrayList<>();
        try (rs) {
            while (rs.next()) {
                values.add(str(rs.getString(name)));
            }
        }
        return "[" + String.join(", ", values) + "]";
    }

    static String str(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
