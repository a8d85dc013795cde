// The dev set's sources: real code installed on this machine, each a "repository"
// (one folder indexed on its own), with a fixed tune/report split. npm packages
// come from node_modules; the rest from pinned Debian 12 packages (docs/ranker.md).
export type Split = 'tune' | 'report';

export interface RepoSource {
  name: string;
  language: 'typescript' | 'javascript' | 'python' | 'go' | 'rust' | 'java';
  /** Folder to index: absolute, or relative to the repository root (node_modules/...). */
  root: string;
  split: Split;
  /** Java only: entries of the JDK's src.zip to extract (prefix match) into the dev-set folder. */
  zipPrefixes?: string[];
  /** Go only: the import path of `root`. */
  goImportPath?: string;
  /** Python only: the top-level package name (`root` is that package's folder). */
  pyPackage?: string;
}

export const DEBIAN_PACKAGES = [
  'python3-requests', 'python3-click', 'python3-jinja2', 'python3-werkzeug', 'python3-flask', 'python3-rich', 'python3-attr',
  'python3-urllib3', 'python3-markdown',
  'golang-github-spf13-cobra-dev', 'golang-github-gorilla-mux-dev', 'golang-github-spf13-viper-dev', 'golang-github-sirupsen-logrus-dev',
  'golang-github-urfave-cli-dev', 'golang-github-prometheus-client-golang-dev', 'golang-github-gin-gonic-gin-dev', 'golang-github-hashicorp-hcl-dev',
  'librust-serde-dev', 'librust-regex-syntax-dev', 'librust-tokio-dev', 'librust-syn-dev', 'librust-rand-dev', 'librust-toml-dev',
  'librust-nom-dev', 'librust-clap-dev', 'librust-hyper-dev',
  'openjdk-17-source',
];

const PY = '/usr/lib/python3/dist-packages';
const GO = '/usr/share/gocode/src';
const py = (pkg: string, split: Split): RepoSource => ({ name: `py-${pkg}`, language: 'python', root: `${PY}/${pkg}`, split, pyPackage: pkg });
const go = (path: string, split: Split): RepoSource => ({ name: `go-${path.split('/').slice(-2).join('-')}`, language: 'go', root: `${GO}/${path}`, split, goImportPath: path });
const java = (name: string, split: Split, zipPrefixes: string[]): RepoSource => ({ name: `java-${name}`, language: 'java', root: `bench/devset/repos/java-${name}`, split, zipPrefixes });

export const SOURCES: RepoSource[] = [
  { name: 'ts-msal-common', language: 'typescript', root: 'node_modules/@azure/msal-common/src', split: 'report' },
  { name: 'ts-msal-browser', language: 'typescript', root: 'node_modules/@azure/msal-browser/src', split: 'report' },
  { name: 'ts-msal-node', language: 'typescript', root: 'node_modules/@azure/msal-node/src', split: 'tune' },
  { name: 'ts-ajv', language: 'typescript', root: 'node_modules/ajv/lib', split: 'tune' },
  { name: 'ts-cheerio', language: 'typescript', root: 'node_modules/cheerio/src', split: 'report' },
  { name: 'js-eslint', language: 'javascript', root: 'node_modules/eslint/lib', split: 'report' },
  { name: 'js-undici', language: 'javascript', root: 'node_modules/undici/lib', split: 'tune' },
  { name: 'js-fast-foundation', language: 'javascript', root: 'node_modules/@microsoft/fast-foundation/dist/esm', split: 'report' },
  { name: 'js-azure-identity', language: 'javascript', root: 'node_modules/@azure/identity/dist/esm', split: 'tune' },
  { name: 'js-protobufjs', language: 'javascript', root: 'node_modules/protobufjs/src', split: 'tune' },
  py('requests', 'tune'), py('click', 'report'), py('jinja2', 'report'), py('werkzeug', 'tune'), py('flask', 'report'),
  py('rich', 'tune'), py('attr', 'report'), py('urllib3', 'tune'), py('markdown', 'report'),
  go('github.com/spf13/cobra', 'tune'), go('github.com/spf13/viper', 'report'), go('github.com/sirupsen/logrus', 'tune'),
  go('github.com/urfave/cli', 'tune'), go('github.com/prometheus/client_golang', 'report'), go('github.com/gin-gonic/gin', 'report'),
  go('github.com/hashicorp/hcl', 'tune'), go('github.com/gorilla/mux', 'report'),
  // Installed as dependencies of the packages above (versions in docs/ranker.md).
  go('google.golang.org/protobuf', 'tune'), go('golang.org/x/net', 'report'), go('golang.org/x/text', 'tune'),
  go('github.com/prometheus/common', 'report'), go('github.com/pelletier/go-toml', 'report'), go('github.com/go-kit/log', 'tune'),
  java('concurrent', 'report', ['java.base/java/util/concurrent/']),
  java('net-http', 'tune', ['java.net.http/']),
  java('httpserver', 'report', ['jdk.httpserver/']),
  java('logging', 'tune', ['java.logging/']),
  java('nio-file', 'report', ['java.base/java/nio/file/', 'java.base/sun/nio/fs/']),
  java('jshell', 'tune', ['jdk.jshell/jdk/jshell/']),
];

/** Rust crates: every crate folder under /usr/share/cargo/registry whose name starts with one of these. */
export const RUST_CRATES: Array<{ prefix: string; split: Split }> = [
  { prefix: 'serde-1', split: 'tune' },
  { prefix: 'regex-syntax-', split: 'report' },
  { prefix: 'tokio-1', split: 'report' },
  { prefix: 'syn-1', split: 'tune' },
  { prefix: 'rand-0', split: 'tune' },
  { prefix: 'toml-0', split: 'report' },
  { prefix: 'nom-7', split: 'report' },
  { prefix: 'clap_builder-', split: 'tune' },
  { prefix: 'clap-4', split: 'tune' },
  { prefix: 'hyper-0', split: 'report' },
  { prefix: 'rand_core-', split: 'report' },
];
