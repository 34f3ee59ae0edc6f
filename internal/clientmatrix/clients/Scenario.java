// The client matrix scenario (see ../doc.go) with pgjdbc, run as a
// single-file program: java -cp postgresql.jar Scenario.java URL USER PASSWORD CLIENT.
// The URL asks for TLS (sslmode=verify-full, sslrootcert) and
// prepareThreshold=1, so every PreparedStatement becomes a named
// server-side statement; results of those come in binary where pgjdbc
// prefers it.
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.sql.*;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

public class Scenario {
    static final String REAL_ID = "11010519491231002X";

    static void out(String step, Object... fields) {
        StringBuilder b = new StringBuilder(step).append(':');
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) b.append('|');
            b.append(fields[i] == null ? "NULL" : fields[i].toString());
        }
        System.out.println(b);
    }

    static String one(Connection c, String sql, Object param) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        String client = args[3];
        try (Connection c = DriverManager.getConnection(args[0], props)) {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, name, id_no, mobile, salary FROM cm.people ORDER BY id")) {
                while (rs.next()) {
                    out("simple", rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5));
                }
            }
            String idNo;
            try (PreparedStatement ps = c.prepareStatement("SELECT name, id_no, mobile FROM cm.people WHERE id = ?")) {
                ps.setInt(1, 2);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    idNo = rs.getString(2);
                    out("param", rs.getString(1), idNo, rs.getString(3));
                }
            }
            out("search", one(c, "SELECT id FROM cm.people WHERE id_no = ?", idNo));
            out("guess", one(c, "SELECT count(*) FROM cm.people WHERE id_no = ?", REAL_ID));

            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO cm.notes (client, body) VALUES (?, 'in a transaction')")) {
                ps.setString(1, client);
                ps.executeUpdate();
            }
            out("tx", one(c, "SELECT count(*) FROM cm.notes WHERE client = ?", client));
            c.rollback();
            c.setAutoCommit(true);
            out("tx", one(c, "SELECT count(*) FROM cm.notes WHERE client = ?", client));

            CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            cm.copyOut("COPY (SELECT id, name, id_no FROM cm.people ORDER BY id) TO STDOUT", buf);
            for (String line : buf.toString(StandardCharsets.UTF_8).split("\n")) {
                if (!line.isEmpty()) out("copy_out", line.replace('\t', '|'));
            }
            cm.copyIn("COPY cm.notes (client, body) FROM STDIN",
                new StringReader(client + "\tcopied one\n" + client + "\tcopied two\n"));
            out("copy_in", one(c, "SELECT count(*) FROM cm.notes WHERE client = ?", client));

            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id FROM cm.people WHERE mobile LIKE '138%'")) {
                List<String> ids = new ArrayList<>();
                while (rs.next()) ids.add(rs.getString(1));
                out("refused", ids.toArray());
            } catch (SQLException e) {
                out("refused", "ERROR " + e.getSQLState());
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                rs.next();
                out("after", rs.getString(1));
            }
        }
    }
}
